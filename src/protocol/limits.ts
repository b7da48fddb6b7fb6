/**
 * Every limit of protocol 1 (docs/protocol.md, section 10), defined once. The schemas of this
 * folder, the validators and the docs' tables use these names; nothing else writes the numbers.
 * "Characters" are counted as each validator counts them (docs/protocol.md says where).
 */

/** The protocol version the WebSocket `ready` frame names. */
export const PROTOCOL_VERSION = 1;

/** A user message id (`id` of a chat, `messages[].id` and the chat `id` of the AI SDK body). */
export const MESSAGE_ID_MAX_CHARS = 128;
/** A `sessionId` in a body, a query or a publish target. Herald's own are ~31 characters. */
export const SESSION_ID_MAX_CHARS = 256;
/** One agent message id in an ack. Herald's own are `am_` + 26 characters. */
export const AGENT_MESSAGE_ID_MAX_CHARS = 64;
/** Ids in one ack (`ack` of a chat body, `ids` of an ack body or frame). */
export const ACK_MAX_IDS = 1000;
/** A seq in a query string or `Last-Event-ID`: 1 to 15 digits (exact as a JS number). */
export const SEQ_QUERY_PATTERN = '^[0-9]{1,15}$';
/** `limit` in a query: 1 to 9999. */
export const LIMIT_QUERY_PATTERN = '^[1-9][0-9]{0,3}$';
/** What a list answers when `limit` is not given, and the most it answers whatever `limit` says. */
export const LIST_DEFAULT = 100;
export const LIST_MAX = 1000;
/**
 * The most sessions a publish answer lists in `sessionIds`, `messages` and `rateLimited` each: a
 * user target with more names the first ones and counts them all (`count`, `rateLimitedCount`).
 */
export const PUBLISH_ANSWER_LIST_MAX = 100;

/** Agent message content, in characters as delivered. */
export const CONTENT_MAX_CHARS = 16_384;
export const TTL_MIN_MS = 1_000;
export const TTL_MAX_MS = 86_400_000;
/** `data`, serialized, in UTF-8 bytes. */
export const DATA_MAX_BYTES = 8 * 1024;
/** Objects and arrays inside `data`, counting `data` itself. */
export const DATA_MAX_DEPTH = 32;
export const CORRELATION_ID_MAX_CHARS = 128;
export const IDEMPOTENCY_KEY_MAX_CHARS = 256;
/** The producing component's name. */
export const SOURCE_PATTERN = '^[a-z0-9][a-z0-9.-]{0,63}$';
