/**
 * What both fuzz suites run against: one Herald on loopback with the limits that would only
 * slow fuzzing off, and a canary: another user's socket, connected before the fuzzing, with a
 * stored message pending, which the suites check is untouched afterwards.
 */
import { publish } from '../support/agent-messages.js';
import { AUTH_ENV, KEYS } from '../support/auth.js';
import { startServer, type TestServer } from '../support/server.js';
import { connect, type WsClient } from '../support/ws-client.js';

export interface FuzzTarget {
  server: TestServer;
  canary: WsClient;
  canarySession: string;
  pendingId: string;
}

export async function startFuzzTarget(env: Record<string, string> = {}): Promise<FuzzTarget> {
  const server = await startServer({
    ...AUTH_ENV,
    HERALD_CHAT_RATE_LIMIT: '0',
    HERALD_AGENT_RATE_LIMITS: '{"sanitization":0,"security":0,"status":0,"error":0}',
    HERALD_MAX_MESSAGE_CHARS: '2000',
    ...env,
  });
  const { client: canary } = await connect(server.wsUrl, { token: KEYS.bob });
  const canarySession: string = (await canary.type('ready')).sessionId;
  const stored = await publish(server, {
    target: { sessionId: canarySession },
    agentType: 'security',
    content: 'kept',
  });
  const pendingId: string = stored.body.id;
  await canary.next((f) => f.type === 'agent_message' && f.message.id === pendingId);
  return { server, canary, canarySession, pendingId };
}
