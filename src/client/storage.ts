/**
 * Where the client keeps what must outlive a connection and a page: the session id, the last
 * seq it saw and the ids of the agent messages it has handed to the application (so a repeat is
 * dropped even after a reload). Any object with localStorage's getItem/setItem works.
 */

/** The part of the Web Storage API the client uses: `localStorage` fits as it is. */
export interface HeraldStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A storage that lives as long as the object (Node, tests, or a page that keeps nothing). */
export function memoryStorage(): HeraldStorage {
  const map = new Map<string, string>();
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
}

/** `localStorage` where the platform has one and it can be written, else a memory storage. */
export function defaultStorage(): HeraldStorage {
  try {
    const ls = (globalThis as { localStorage?: HeraldStorage }).localStorage;
    if (ls) {
      ls.setItem('herald:probe', '1');
      ls.removeItem('herald:probe');
      return ls;
    }
  } catch {
    // Private mode or storage disabled: fall through.
  }
  return memoryStorage();
}

/** What is kept for one client key. */
export interface SavedState {
  sessionId?: string;
  lastSeq: number;
  /** The newest agent message ids handed to the application, oldest first. */
  seen: string[];
}

/**
 * The saved state of one client, read once and written on every change. `seen` is bounded:
 * the oldest ids go first. A repeat of a message older than the bound is still dropped when
 * its seq is at or below `lastSeq` and it is a replay (the server replays only after `lastSeq`).
 */
export class ClientState {
  readonly seen: Set<string>;
  sessionId: string | undefined;
  lastSeq: number;

  constructor(
    private readonly storage: HeraldStorage,
    private readonly key: string,
    private readonly maxSeen: number,
  ) {
    const saved = ClientState.read(storage, key);
    this.sessionId = saved.sessionId;
    this.lastSeq = saved.lastSeq;
    this.seen = new Set(saved.seen.slice(-maxSeen));
  }

  private static read(storage: HeraldStorage, key: string): SavedState {
    try {
      const raw = storage.getItem(key);
      if (raw) {
        const v = JSON.parse(raw) as Partial<SavedState>;
        return {
          sessionId: typeof v.sessionId === 'string' ? v.sessionId : undefined,
          lastSeq: typeof v.lastSeq === 'number' && v.lastSeq >= 0 ? v.lastSeq : 0,
          seen: Array.isArray(v.seen) ? v.seen.filter((id) => typeof id === 'string') : [],
        };
      }
    } catch {
      // Unreadable state starts afresh.
    }
    return { lastSeq: 0, seen: [] };
  }

  /** Marks an id as handed to the application; false when it already was. */
  markSeen(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    while (this.seen.size > this.maxSeen) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }

  /** A new session forgets the old one's seq and ids. */
  setSession(sessionId: string): void {
    if (sessionId === this.sessionId) return;
    this.sessionId = sessionId;
    this.lastSeq = 0;
    this.seen.clear();
    this.save();
  }

  save(): void {
    const state: SavedState = { sessionId: this.sessionId, lastSeq: this.lastSeq, seen: [...this.seen] };
    try {
      this.storage.setItem(this.key, JSON.stringify(state));
    } catch {
      // A full storage keeps the state in memory for this page's life.
    }
  }

  clear(): void {
    this.sessionId = undefined;
    this.lastSeq = 0;
    this.seen.clear();
    try {
      this.storage.removeItem(this.key);
    } catch {}
  }
}
