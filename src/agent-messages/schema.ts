/**
 * Validation of agent messages (docs/protocol.md, section 3). A producer's input is checked field by
 * field; every bad field is named in one invalid_agent_message error, and nothing is admitted.
 */
import { HeraldError } from '../errors/catalogue.js';
import { isPlainObject } from '../json-guards.js';
import { countChars } from '../sanitize/chars.js';
import { LIMITS, SOURCE_PATTERN, TYPE_DEFAULTS } from './defaults.js';
import {
  AGENT_TYPES,
  type AgentType,
  type DeliveryGuarantee,
  GUARANTEES,
  PRIORITIES,
  type Priority,
} from './types.js';

/** What a producer gives; the router fills in id, timestamps, seq and the type's defaults. */
export interface AgentMessageInput {
  agentType: AgentType;
  content: string;
  source: string;
  priority?: Priority;
  ttl?: number;
  deliveryGuarantee?: DeliveryGuarantee;
  correlationId?: string;
  data?: Record<string, unknown>;
  idempotencyKey?: string;
}

/** An input with every default applied, ready for admission. */
export type ResolvedInput = Required<Omit<AgentMessageInput, 'correlationId' | 'data' | 'idempotencyKey'>> &
  Pick<AgentMessageInput, 'correlationId' | 'data' | 'idempotencyKey'>;

// Control characters but \n and \t (docs/protocol.md, section 3: removed before the length check).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export const stripControl = (text: string): string => text.replace(CONTROL, '');

/**
 * Checks an untrusted input (a publish body without its target) and applies the type's
 * defaults. `scrub` is the pii + secrets steps of the sanitizer, run over content and every
 * string in data, so a producer cannot leak what the pipeline would have removed.
 */
export function validateAgentMessageInput(
  body: unknown,
  scrub: (text: string) => string,
  /** Faults the caller found first (the publish target), reported with the rest. */
  earlier: ReadonlyArray<{ field: string; why: string }> = [],
): ResolvedInput {
  if (!isPlainObject(body))
    throw new HeraldError('invalid_agent_message', 'body must be an object', { fields: ['body'] });
  const bad: string[] = [];
  const reasons: string[] = [];
  const fail = (field: string, why: string) => {
    bad.push(field);
    reasons.push(`${field} ${why}`);
  };
  for (const e of earlier) fail(e.field, e.why);

  const agentType = body.agentType;
  if (!AGENT_TYPES.includes(agentType as AgentType))
    fail('agentType', `must be one of ${AGENT_TYPES.join(', ')}`);

  // The scrub (its placeholders may lengthen the text), then control characters: the limit
  // holds for what is delivered, counted in characters (code points).
  let content = '';
  if (typeof body.content !== 'string') fail('content', 'must be a string');
  else {
    // The scrub's ansi step must see escape sequences whole, before control characters go.
    content = stripControl(scrub(body.content));
    const chars = countChars(content);
    if (chars < 1 || chars > LIMITS.contentMaxChars)
      fail(
        'content',
        `must be 1 to ${LIMITS.contentMaxChars} characters after control characters are removed and PII and secrets are replaced`,
      );
  }

  if (typeof body.source !== 'string' || !SOURCE_PATTERN.test(body.source))
    fail('source', `must match ${SOURCE_PATTERN.source}`);

  if (body.priority !== undefined && !PRIORITIES.includes(body.priority as Priority))
    fail('priority', `must be one of ${PRIORITIES.join(', ')}`);

  if (
    body.ttl !== undefined &&
    (typeof body.ttl !== 'number' ||
      !Number.isInteger(body.ttl) ||
      body.ttl < LIMITS.ttlMinMs ||
      body.ttl > LIMITS.ttlMaxMs)
  )
    fail('ttl', `must be an integer number of milliseconds from ${LIMITS.ttlMinMs} to ${LIMITS.ttlMaxMs}`);

  if (
    body.deliveryGuarantee !== undefined &&
    !GUARANTEES.includes(body.deliveryGuarantee as DeliveryGuarantee)
  )
    fail('deliveryGuarantee', `must be one of ${GUARANTEES.join(', ')}`);

  const optionalString = (field: 'correlationId' | 'idempotencyKey', max: number) => {
    const v = body[field];
    if (v !== undefined && (typeof v !== 'string' || v.length < 1 || v.length > max))
      fail(field, `must be a string of 1 to ${max} characters`);
  };
  optionalString('correlationId', LIMITS.correlationIdMaxChars);
  optionalString('idempotencyKey', LIMITS.idempotencyKeyMaxChars);

  let data: Record<string, unknown> | undefined;
  if (body.data !== undefined) {
    if (!isPlainObject(body.data)) fail('data', 'must be a JSON object');
    else if (depthOver(body.data, LIMITS.dataMaxDepth))
      fail('data', `must be nested at most ${LIMITS.dataMaxDepth} levels deep`);
    else {
      data = scrubStrings(body.data, scrub) as Record<string, unknown>;
      if (Buffer.byteLength(JSON.stringify(data)) > LIMITS.dataMaxBytes)
        fail('data', `must be at most ${LIMITS.dataMaxBytes} bytes serialized`);
    }
  }

  if (bad.length > 0)
    throw new HeraldError('invalid_agent_message', `Invalid agent message: ${reasons.join('; ')}.`, {
      fields: bad,
    });

  const type = agentType as AgentType;
  const defaults = TYPE_DEFAULTS[type];
  return {
    agentType: type,
    content,
    source: body.source as string,
    priority: (body.priority as Priority | undefined) ?? defaults.priority,
    ttl: (body.ttl as number | undefined) ?? defaults.ttl,
    deliveryGuarantee:
      (body.deliveryGuarantee as DeliveryGuarantee | undefined) ?? defaults.deliveryGuarantee,
    correlationId: body.correlationId as string | undefined,
    data,
    idempotencyKey: body.idempotencyKey as string | undefined,
  };
}

export type PublishTarget = { sessionId: string } | { userId: string };

/**
 * A publish body (docs/protocol.md, section 6): the target and the message, every bad field named in one
 * invalid_agent_message error.
 */
export function validatePublishBody(
  body: unknown,
  scrub: (text: string) => string,
): { target: PublishTarget; input: ResolvedInput } {
  const { target: raw, ...rest } = isPlainObject(body) ? body : {};
  const target = parseTarget(raw);
  const input = validateAgentMessageInput(
    isPlainObject(body) ? rest : body,
    scrub,
    target ? [] : [{ field: 'target', why: 'must be {"sessionId":"…"} or {"userId":"…"}' }],
  );
  return { target: target!, input };
}

function parseTarget(raw: unknown): PublishTarget | undefined {
  if (!isPlainObject(raw)) return undefined;
  const keys = Object.keys(raw);
  if (keys.length !== 1) return undefined;
  if (typeof raw.sessionId === 'string' && raw.sessionId !== '') return { sessionId: raw.sessionId };
  if (typeof raw.userId === 'string' && raw.userId !== '') return { userId: raw.userId };
  return undefined;
}

/** Applies the type's defaults to an input made inside Herald (already trusted and clean). */
export function withDefaults(input: AgentMessageInput): ResolvedInput {
  const defaults = TYPE_DEFAULTS[input.agentType];
  return {
    ...input,
    priority: input.priority ?? defaults.priority,
    ttl: input.ttl ?? defaults.ttl,
    deliveryGuarantee: input.deliveryGuarantee ?? defaults.deliveryGuarantee,
  };
}

function scrubStrings(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, scrub));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    // Keys are text the client shows too.
    for (const [k, v] of Object.entries(value)) out[scrub(k)] = scrubStrings(v, scrub);
    return out;
  }
  return value;
}

/**
 * True when `value` nests deeper than `max` objects and arrays. Iterative, so a body nested
 * 50,000 levels deep is refused with a 400 rather than overflowing the stack.
 */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
