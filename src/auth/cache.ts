/**
 * A small time-bounded cache: entries live `ttlMs` and the oldest go first beyond `capacity`.
 * Used so that a request does not pay a registry query and a signature check every time.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly capacity = 10_000,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, expires = Date.now() + this.ttlMs): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: Math.min(expires, Date.now() + this.ttlMs) });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(): void {
    this.entries.clear();
  }
}
