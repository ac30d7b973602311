// The streaming endpoint's server-held state: per client id, the hN/cN its last step left. Bounded
// two ways: an idle session expires after `ttlMs`, and when `maxSessions` are held the least
// recently used one is dropped to make room (a Map keeps insertion order: touching re-inserts).
import type { Tensor } from 'cellscan';

export interface Session {
  readonly id: string;
  hN?: Tensor;
  cN?: Tensor;
  /** Steps run so far. */
  steps: number;
  lastUsed: number;
  /** A step is running: a second one at the same time would race for the state. */
  busy: boolean;
}

export const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  evicted = 0;
  expired = 0;

  constructor(
    readonly maxSessions: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // Expired sessions would otherwise stay until the table fills; unref: never keeps the process up.
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(ttlMs, 60_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The live session of that id, or undefined (an expired one is dropped on the way). */
  get(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (s && this.now() - s.lastUsed > this.ttlMs) {
      this.sessions.delete(id);
      this.expired++;
      return undefined;
    }
    return s;
  }

  /** The session, made fresh (zero state) when absent, and marked most recently used. */
  touch(id: string): Session {
    let s = this.get(id);
    if (s) {
      this.sessions.delete(id);
    } else {
      s = { id, steps: 0, lastUsed: 0, busy: false };
      this.makeRoom();
    }
    s.lastUsed = this.now();
    this.sessions.set(id, s);
    return s;
  }

  /** Whether this very session object is still held (not evicted, expired or deleted meanwhile). */
  holds(s: Session): boolean {
    return this.sessions.get(s.id) === s;
  }

  delete(id: string): boolean {
    return this.get(id) !== undefined && this.sessions.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private makeRoom(): void {
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
      this.evicted++;
    }
  }

  private sweep(): void {
    const t = this.now();
    // Oldest first: stop at the first one still fresh.
    for (const [id, s] of this.sessions) {
      if (t - s.lastUsed <= this.ttlMs) break;
      this.sessions.delete(id);
      this.expired++;
    }
  }
}
