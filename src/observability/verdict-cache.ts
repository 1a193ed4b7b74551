// Access verdicts remembered for a while, in a bounded map: the oldest entry goes first, so a flood
// of distinct callers costs memory up to the bound and no more.
export class ExpiringVerdicts<V> {
  private readonly kept = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /** The value remembered under key, unless it has expired. */
  get(key: string): V | undefined {
    const entry = this.kept.get(key);
    return entry !== undefined && entry.expiresAt > this.now() ? entry.value : undefined;
  }

  /** What is kept, expired or not: keys and values (for tests that check what is remembered). */
  *entries(): IterableIterator<[string, V]> {
    for (const [key, entry] of this.kept.entries()) yield [key, entry.value];
  }

  set(key: string, value: V, ttlMs: number): void {
    this.kept.delete(key);
    this.kept.set(key, { value, expiresAt: this.now() + ttlMs });
    // A Map iterates in insertion order: the first keys are the oldest verdicts.
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.maxEntries) break;
      this.kept.delete(oldest);
    }
  }
}
