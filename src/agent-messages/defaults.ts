/** Defaults by agent type (docs/protocol.md, section 3), used where a producer does not say otherwise. */
import type { AgentType, DeliveryGuarantee, Priority } from './types.js';

export const TYPE_DEFAULTS: Record<
  AgentType,
  { priority: Priority; deliveryGuarantee: DeliveryGuarantee; ttl: number }
> = {
  sanitization: { priority: 'medium', deliveryGuarantee: 'at-least-once', ttl: 300_000 },
  security: { priority: 'high', deliveryGuarantee: 'exactly-once', ttl: 3_600_000 },
  status: { priority: 'low', deliveryGuarantee: 'best-effort', ttl: 60_000 },
  error: { priority: 'critical', deliveryGuarantee: 'exactly-once', ttl: 3_600_000 },
};

export const LIMITS = {
  contentMaxChars: 16_384,
  ttlMinMs: 1_000,
  ttlMaxMs: 86_400_000,
  dataMaxBytes: 8 * 1024,
  /** Objects and arrays inside `data`, counting `data` itself. */
  dataMaxDepth: 32,
  correlationIdMaxChars: 128,
  idempotencyKeyMaxChars: 256,
} as const;

export const SOURCE_PATTERN = /^[a-z0-9][a-z0-9.-]{0,63}$/;
