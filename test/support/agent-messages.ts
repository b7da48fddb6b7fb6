/** Publishing agent messages in tests: POST /api/agent-messages with a status message by default. */
import { KEYS } from './auth.js';
import type { TestServer } from './server.js';

/** Publishes `{ agentType: 'status', content: 'hello', source: 'test', ...body }` as the publisher. */
export function publish(server: TestServer, body: Record<string, unknown>, token = KEYS.publisher) {
  return server.request('POST', '/api/agent-messages', {
    token,
    body: { agentType: 'status', content: 'hello', source: 'test', ...body },
  });
}
