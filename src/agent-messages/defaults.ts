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
