/**
 * The AsyncAPI 3 document (GET /docs/asyncapi.json) for GET /ws/chat and the two SSE streams,
 * generated from the protocol's frame and part schemas (src/protocol). Operations are from
 * Herald's side: `send` is what Herald sends, `receive` what it takes.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  AckFrame,
  AgentMessageFrame,
  ChatFrame,
  ChunkFrame,
  CompleteFrame,
  ErrorFrame,
  LegacyChatFrame,
  PingFrame,
  PongFrame,
  ReadyFrame,
  ResumeFrame,
  ResumeReplyFrame,
  StopFrame,
  TypingFrame,
  WsQuery,
} from '../protocol/frames.js';
import { StreamQuery } from '../protocol/http.js';
import { PROTOCOL_VERSION } from '../protocol/limits.js';
import {
  AgentMessageEvent,
  AgentMessagePart,
  ErrorPart,
  FinishPart,
  StartPart,
  TextDeltaPart,
  TextEndPart,
  TextStartPart,
} from '../protocol/streams.js';

type Messages = Record<string, { schema: TSchema; summary: string }>;

interface Channel {
  address: string;
  server: 'websocket' | 'http';
  description: string;
  /** What Herald takes on this channel. */
  receives?: Messages;
  /** What Herald sends. */
  sends: Messages;
  bindings?: Record<string, unknown>;
  /** The HTTP request that opens an SSE stream (its body, if any, is in the OpenAPI document). */
  http?: { method: string; query?: TSchema };
}

/** Plain JSON Schema: TypeBox's symbols and nothing else dropped. */
const json = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

const CHANNELS: Record<string, Channel> = {
  chat: {
    address: '/ws/chat',
    server: 'websocket',
    description:
      'One conversation over a WebSocket (docs/protocol.md, section 5): `ready` first, then the ' +
      'replay of stored unacked agent messages after `after`, then everything newer. Text frames ' +
      'of one JSON object each. Scope `chat`: `Authorization: Bearer …`, or `?ticket=` from ' +
      'POST /api/ws-ticket.',
    receives: {
      chat: { schema: ChatFrame, summary: 'A user message; answered by chunks and complete' },
      legacyChat: { schema: LegacyChatFrame, summary: 'A chat in the older form, without `type`' },
      ack: { schema: AckFrame, summary: 'Acknowledge agent messages shown' },
      resume: { schema: ResumeFrame, summary: 'Send again what is stored after a seq' },
      ping: { schema: PingFrame, summary: 'Answered by pong' },
      resumeReply: {
        schema: ResumeReplyFrame,
        summary: 'The rest of a resumable reply from an offset, then live, then complete or error',
      },
      stop: { schema: StopFrame, summary: 'Stop the reply to `replyTo`' },
    },
    sends: {
      ready: { schema: ReadyFrame, summary: 'The first frame: the session and the protocol version' },
      agentMessage: { schema: AgentMessageFrame, summary: 'An agent message; attempt > 1 is a resend' },
      typing: { schema: TypingFrame, summary: 'A reply is being made (true) or done (false)' },
      chunk: { schema: ChunkFrame, summary: 'Part of the reply to `replyTo`' },
      complete: { schema: CompleteFrame, summary: 'The reply to `replyTo` is whole' },
      error: { schema: ErrorFrame, summary: 'An error from the catalogue (docs/protocol.md, section 8)' },
      pong: { schema: PongFrame, summary: 'The answer to ping' },
    },
    bindings: { ws: { method: 'GET', query: json(WsQuery), bindingVersion: '0.1.0' } },
  },
  agentMessageStream: {
    address: '/api/agent-messages/stream',
    server: 'http',
    description:
      "A session's agent messages as Server-Sent Events (`content-type: text/event-stream`): one " +
      'event per message, `id: <seq>`, `event: agent_message`, `data: <the message>`; a ' +
      '`: heartbeat` comment every HERALD_SSE_HEARTBEAT_MS. `Last-Event-ID` resumes. Scope `chat`.',
    sends: { agentMessageEvent: { schema: AgentMessageEvent, summary: 'One agent message' } },
    http: { method: 'GET', query: StreamQuery },
  },
  chatStream: {
    address: '/api/chat/stream',
    server: 'http',
    description:
      'The reply to one chat as a Vercel AI SDK UI message stream v1 (`x-vercel-ai-ui-message-stream: v1`): ' +
      'one `data: <part>` event per part, in the order start, agent messages, text-start, ' +
      'text-delta…, text-end, finish (or error then finish), then `data: [DONE]`. Scope `chat`. ' +
      'The request body is in /docs/openapi.json.',
    sends: {
      start: { schema: StartPart, summary: 'The session and message id' },
      dataAgentMessage: { schema: AgentMessagePart, summary: 'An agent message; the part id is its id' },
      textStart: { schema: TextStartPart, summary: 'The reply text begins' },
      textDelta: { schema: TextDeltaPart, summary: 'Part of the reply text' },
      textEnd: { schema: TextEndPart, summary: 'The reply text is whole' },
      errorPart: { schema: ErrorPart, summary: 'The reply failed: `<code>: <message>`' },
      finish: { schema: FinishPart, summary: 'The last part before [DONE]' },
    },
    http: { method: 'POST' },
  },
};

export interface AsyncApiOptions {
  /** Where clients connect, `host[:port]`. */
  host: string;
  /** Whether the connection is secured (wss, https). */
  secure?: boolean;
  /** With HERALD_AGENT_MESSAGES=off the agent message stream does not exist. */
  agentMessages?: boolean;
}

export function asyncApiDocument(options: AsyncApiOptions): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const [name, channel] of Object.entries(CHANNELS)) {
    if (name === 'agentMessageStream' && options.agentMessages === false) continue;
    const all = { ...channel.receives, ...channel.sends };
    for (const [id, m] of Object.entries(all))
      messages[id] = { name: id, title: id, summary: m.summary, payload: json(m.schema) };
    channels[name] = {
      address: channel.address,
      description: channel.description,
      servers: [{ $ref: `#/servers/${channel.server}` }],
      messages: Object.fromEntries(
        Object.keys(all).map((id) => [id, { $ref: `#/components/messages/${id}` }]),
      ),
      ...(channel.bindings && { bindings: channel.bindings }),
    };
    const refs = (m: Messages) => Object.keys(m).map((id) => ({ $ref: `#/channels/${name}/messages/${id}` }));
    const http = channel.http && {
      bindings: {
        http: {
          method: channel.http.method,
          ...(channel.http.query && { query: json(channel.http.query) }),
          bindingVersion: '0.3.0',
        },
      },
    };
    operations[`${name}Send`] = {
      action: 'send',
      channel: { $ref: `#/channels/${name}` },
      messages: refs(channel.sends),
      ...http,
    };
    if (channel.receives)
      operations[`${name}Receive`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${name}` },
        messages: refs(channel.receives),
      };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Herald',
      version: String(PROTOCOL_VERSION),
      description:
        'Herald protocol 1 on its long-lived connections: the WebSocket chat and the Server-Sent ' +
        'Event streams (docs/protocol.md). Operations are from the server side: `send` is what ' +
        'Herald sends. The HTTP endpoints are in /docs/openapi.json.',
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: { host: options.host, protocol: options.secure ? 'wss' : 'ws' },
      http: { host: options.host, protocol: options.secure ? 'https' : 'http' },
    },
    channels,
    operations,
    components: { messages },
  };
}
