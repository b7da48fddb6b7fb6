/**
 * `herald/client`: the SDK entry point (docs/clients.md). Platform only: WebSocket, fetch and
 * localStorage where they exist, injected where they do not.
 */
export type { AgentMessage, AgentType, DeliveryGuarantee, ErrorCode, Priority } from '../protocol/index.js';
export {
  backoffDelay,
  type ClientErrorCode,
  ConnectionState,
  type HeraldAuth,
  HeraldClient,
  HeraldClientError,
  type HeraldClientOptions,
  type HeraldEvents,
  type Reply,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { defaultStorage, type HeraldStorage, memoryStorage } from './storage.js';
