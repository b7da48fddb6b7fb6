/**
 * Validation of agent messages (docs/protocol.md, section 3). A producer's input is checked field by
 * field; every bad field is named in one invalid_agent_message error, and nothing is admitted.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { HeraldError } from '../errors/catalogue.js';
import { isPlainObject } from '../json-guards.js';
import {
  AGENT_TYPES,
  type AgentMessageInput,
  AgentMessageInput as AgentMessageInputSchema,
  GUARANTEES,
  PRIORITIES,
  type PublishTarget,
  PublishTarget as PublishTargetSchema,
} from '../protocol/agent-message.js';
import {
  CONTENT_MAX_CHARS,
  CORRELATION_ID_MAX_CHARS,
  DATA_MAX_BYTES,
  DATA_MAX_DEPTH,
  IDEMPOTENCY_KEY_MAX_CHARS,
  SOURCE_PATTERN,
  TTL_MAX_MS,
  TTL_MIN_MS,
} from '../protocol/limits.js';
import { countChars } from '../sanitize/chars.js';
import { TYPE_DEFAULTS } from './defaults.js';
import type { AgentType, DeliveryGuarantee, Priority } from './types.js';

export type { AgentMessageInput, PublishTarget };

/** An input with every default applied, ready for admission. */
export type ResolvedInput = Required<Omit<AgentMessageInput, 'correlationId' | 'data' | 'idempotencyKey'>> &
  Pick<AgentMessageInput, 'correlationId' | 'data' | 'idempotencyKey'>;

// Control characters but \n and \t (docs/protocol.md, section 3: removed before the length check).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export const stripControl = (text: string): string => text.replace(CONTROL, '');

/**
 * Each field of the protocol's AgentMessageInput schema, compiled once, with what a producer is
 * told when it fails, in the order faults are reported. `content` is checked after the scrub
 * (its limit holds for the text as delivered, in characters) and `data` after it too (size in
 * bytes, depth), so their schemas here check only the type.
 */
const P = AgentMessageInputSchema.properties;
type Field = keyof typeof P;
const FIELDS: ReadonlyArray<{ field: Field; check: (v: unknown) => boolean; why: string }> = [
  { field: 'agentType', why: `must be one of ${AGENT_TYPES.join(', ')}` },
  { field: 'source', why: `must match ${SOURCE_PATTERN}` },
  { field: 'priority', why: `must be one of ${PRIORITIES.join(', ')}` },
  { field: 'ttl', why: `must be an integer number of milliseconds from ${TTL_MIN_MS} to ${TTL_MAX_MS}` },
  { field: 'deliveryGuarantee', why: `must be one of ${GUARANTEES.join(', ')}` },
  { field: 'correlationId', why: `must be a string of 1 to ${CORRELATION_ID_MAX_CHARS} characters` },
  { field: 'idempotencyKey', why: `must be a string of 1 to ${IDEMPOTENCY_KEY_MAX_CHARS} characters` },
].map(({ field, why }) => {
  const compiled = TypeCompiler.Compile(P[field as Field]);
  return { field: field as Field, why, check: (v: unknown) => compiled.Check(v) };
});
const REQUIRED: ReadonlySet<string> = new Set(AgentMessageInputSchema.required ?? []);
const isData = TypeCompiler.Compile(P.data);
const isTarget = TypeCompiler.Compile(PublishTargetSchema);

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

  const checkField = (i: number) => {
    const { field, check, why } = FIELDS[i]!;
    const v = body[field];
    if (v === undefined ? REQUIRED.has(field) : !check(v)) fail(field, why);
  };
  checkField(0); // agentType

  // The scrub (its placeholders may lengthen the text), then control characters: the limit
  // holds for what is delivered, counted in characters (code points).
  let content = '';
  if (typeof body.content !== 'string') fail('content', 'must be a string');
  else {
    // The scrub's ansi step must see escape sequences whole, before control characters go.
    content = stripControl(scrub(body.content));
    const chars = countChars(content);
    if (chars < 1 || chars > CONTENT_MAX_CHARS)
      fail(
        'content',
        `must be 1 to ${CONTENT_MAX_CHARS} characters after control characters are removed and PII and secrets are replaced`,
      );
  }
  for (let i = 1; i < FIELDS.length; i++) checkField(i);

  let data: Record<string, unknown> | undefined;
  if (body.data !== undefined) {
    if (!isData.Check(body.data)) fail('data', 'must be a JSON object');
    else if (depthOver(body.data, DATA_MAX_DEPTH))
      fail('data', `must be nested at most ${DATA_MAX_DEPTH} levels deep`);
    else {
      data = scrubStrings(body.data, scrub) as Record<string, unknown>;
      if (Buffer.byteLength(JSON.stringify(data)) > DATA_MAX_BYTES)
        fail('data', `must be at most ${DATA_MAX_BYTES} bytes serialized`);
    }
  }

  if (bad.length > 0)
    throw new HeraldError('invalid_agent_message', `Invalid agent message: ${reasons.join('; ')}.`, {
      fields: bad,
    });

  const type = body.agentType as AgentType;
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

/**
 * A publish body (docs/protocol.md, section 6): the target and the message, every bad field
 * named in one invalid_agent_message error.
 */
export function validatePublishBody(
  body: unknown,
  scrub: (text: string) => string,
): { target: PublishTarget; input: ResolvedInput } {
  const { target: raw, ...rest } = isPlainObject(body) ? body : {};
  const target = isTarget.Check(raw) ? raw : undefined;
  const input = validateAgentMessageInput(
    isPlainObject(body) ? rest : body,
    scrub,
    target ? [] : [{ field: 'target', why: 'must be {"sessionId":"…"} or {"userId":"…"}' }],
  );
  return { target: target!, input };
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
