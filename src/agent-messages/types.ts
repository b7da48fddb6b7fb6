/** The agent message (docs/protocol.md, section 3), as stored and sent: types from the protocol's schemas. */
import type { DeliveryGuarantee } from '../protocol/agent-message.js';

export {
  AGENT_TYPES,
  type AgentMessage,
  type AgentType,
  type DeliveryGuarantee,
  GUARANTEES,
  PRIORITIES,
  type Priority,
} from '../protocol/agent-message.js';

/** True for the guarantees whose messages are stored until acked or expired. */
export const isStored = (g: DeliveryGuarantee): boolean => g !== 'best-effort';
