// Synthetic metric histories for tests that backfill Prometheus.
export const MIN = 60_000;
export const DAY = 24 * 60 * MIN;

/** Demand at `base`, with a plateau at `peak` lasting `durationMs` every day at the time of day of `rampStart`. */
export function dailyPlateau(rampStart: number, base: number, peak: number, durationMs = 60 * MIN): (t: number) => number {
  return (t) => {
    const sinceRamp = (((t - rampStart) % DAY) + DAY) % DAY;
    return sinceRamp < durationMs ? peak : base;
  };
}

/** One point per minute of f over [from, to]. */
export function minutePoints(from: number, to: number, f: (t: number) => number): [number, number][] {
  const points: [number, number][] = [];
  for (let t = Math.ceil(from / MIN) * MIN; t <= to; t += MIN) points.push([t, f(t)]);
  return points;
}

/** f plus deterministic noise, uniform in ±amplitude (real metrics are never exactly periodic). */
export function withNoise(f: (t: number) => number, amplitude: number, seed = 1): (t: number) => number {
  return (t) => {
    // A hash of the timestamp, so the same instant always gets the same noise.
    let x = Math.imul((t / 1000) ^ seed, 2654435761) >>> 0;
    x = Math.imul(x ^ (x >>> 15), 2246822519) >>> 0;
    return f(t) + ((x / 2 ** 32) * 2 - 1) * amplitude;
  };
}
