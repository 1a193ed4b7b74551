// Seeded pseudo-random numbers, so a training run can be repeated exactly.

/** Uniform numbers in [0, 1) from a seed (mulberry32). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** At most `limit` items spread evenly over `items`, in their original order. */
export function evenlySpaced<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return items.slice();
  const stride = items.length / limit;
  return Array.from({ length: limit }, (_, k) => items[Math.floor(k * stride)]);
}
