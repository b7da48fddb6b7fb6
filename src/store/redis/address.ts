/** host:port of a Redis URL, for messages and logs: never the password it may hold. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured REDIS_URL';
  }
}
