// A fixed-capacity buffer: once full, each push overwrites the oldest item, so memory never grows
// past the capacity whatever the number of pushes.

export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  /** Where the next push goes. */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a whole number at least 1, not ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.next - 1 + this.capacity) % this.capacity];
  }

  /** The newest `n` items (fewer when there are fewer), oldest first. */
  toArrayTail(n: number): T[] {
    const k = Math.min(n, this.count);
    const out: T[] = [];
    for (let j = k; j >= 1; j--) out.push(this.items[(this.next - j + this.capacity) % this.capacity] as T);
    return out;
  }

  /** Replaces the newest item (there must be one). */
  replaceLast(item: T): void {
    if (this.count === 0) throw new RangeError('the ring buffer is empty');
    this.items[(this.next - 1 + this.capacity) % this.capacity] = item;
  }

  /** Drops the oldest items while `stale` holds for them. */
  dropWhile(stale: (item: T) => boolean): void {
    while (this.count > 0) {
      const oldest = (this.next - this.count + this.capacity) % this.capacity;
      if (!stale(this.items[oldest] as T)) return;
      this.items[oldest] = undefined;
      this.count--;
    }
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const first = (this.next - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) out.push(this.items[(first + k) % this.capacity] as T);
    return out;
  }
}
