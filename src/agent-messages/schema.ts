/**
 * Validation of agent messages (contract section 2). A producer's input is checked field by
 * field; every bad field is named in one invalid_agent_message error, and nothing is admitted.
 */
import { HeraldError } from '../errors/catalogue.js';
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

// Control characters but \n and \t (contract section 2: removed before the length check).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export const stripControl = (text: string): string => text.replace(CONTROL, '');

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks an untrusted input (a publish body without its target) and applies the type's
 * defaults. `scrub` is the pii + secrets steps of the sanitizer, run over content and every
 * string in data, so a producer cannot leak what the pipeline would have removed.
 */
export function validateAgentMessageInput(body: unknown, scrub: (text: string) => string): ResolvedInput {
  if (!isPlainObject(body))
    throw new HeraldError('invalid_agent_message', 'body must be an object', { fields: ['body'] });
  const bad: string[] = [];
  const reasons: string[] = [];
  const fail = (field: string, why: string) => {
    bad.push(field);
    reasons.push(`${field} ${why}`);
  };

  const agentType = body.agentType;
  if (!AGENT_TYPES.includes(agentType as AgentType))
    fail('agentType', `must be one of ${AGENT_TYPES.join(', ')}`);

  let content = '';
  if (typeof body.content !== 'string') fail('content', 'must be a string');
  else {
    content = stripControl(body.content);
    if (content.length < 1 || content.length > LIMITS.contentMaxChars)
      fail(
        'content',
        `must be 1 to ${LIMITS.contentMaxChars} characters after control characters are removed`,
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
    content: scrub(content),
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
    for (const [k, v] of Object.entries(value)) out[k] = scrubStrings(v, scrub);
    return out;
  }
  return value;
}
