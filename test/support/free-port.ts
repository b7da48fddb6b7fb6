/**
 * A free loopback port, for a server the test starts as another process (Herald itself, a
 * redis-server): the OS picks one and it is closed again before that process takes it.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}
