// Synthetic series for the forecasting tests. Noise is a fixed pseudo-random sequence, so every
// run sees the same numbers.
import type { Series } from '../../../src/forecast/types.js';
import { uniform } from '../../helpers/random.js';

export { uniform };

export const MINUTE = 60_000;
export const FIVE_MINUTES = 5 * MINUTE;
export const DAY = 24 * 60 * MINUTE;
export const START = Date.UTC(2026, 0, 5);

/** Standard normal noise from a seed (Box-Muller). */
export function gaussian(seed: number): () => number {
  const next = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

export function makeSeries(length: number, stepMs: number, valueAt: (i: number) => number): Series {
  return { start: START, stepMs, values: Array.from({ length }, (_, i) => valueAt(i)) };
}

/** 100 + amplitude * sin(daily phase) + noise, on a 5-minute grid. */
export function dailySine(days: number, amplitude = 30, noise = 0, seed = 1): Series {
  const perDay = DAY / FIVE_MINUTES;
  const next = gaussian(seed);
  return makeSeries(days * perDay, FIVE_MINUTES, (i) => 100 + amplitude * Math.sin((2 * Math.PI * i) / perDay) + noise * next());
}
