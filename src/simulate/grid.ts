// Puts a trace at any step (30 s to 30 min) onto the simulation's one-minute grid: buckets at the
// trace's own step, gaps filled (seasonally when the trace spans days), then averaged down or linearly
// interpolated up to minutes. Everything done to the data is reported as notes.
import { formatDuration } from '../api/units.js';
import { fillGaps } from '../forecast/series.js';
import { resample, type TracePoint } from '../traces/csv.js';
import { MINUTE_MS } from './engine.js';
import type { TimeSeriesData } from './types.js';

const DAY_MS = 86_400_000;

export interface GridResult {
  demand: TimeSeriesData;
  nativeStepMs: number;
  notes: string[];
}

export function nativeStep(points: readonly TracePoint[]): number {
  const times = points.map((p) => p[0]).sort((a, b) => a - b);
  const diffs: number[] = [];
  for (let i = 1; i < times.length; i++) if (times[i]! > times[i - 1]!) diffs.push(times[i]! - times[i - 1]!);
  if (diffs.length === 0) throw new Error('the trace needs at least two distinct timestamps');
  diffs.sort((a, b) => a - b);
  return diffs[Math.floor(diffs.length / 2)]!;
}

export function toMinuteGrid(points: readonly TracePoint[]): GridResult {
  const step = nativeStep(points);
  if (step < 30_000 || step > 30 * MINUTE_MS) {
    throw new Error(`the trace's step is ${formatDuration(step)}; simulate supports traces with a step from 30s to 30m`);
  }
  const notes: string[] = [];
  const start = Math.floor(points.reduce((m, p) => Math.min(m, p[0]), Infinity) / MINUTE_MS) * MINUTE_MS;
  const bucketStep = Math.max(step, MINUTE_MS);
  const { series, gaps } = resample(points, bucketStep, start);
  const spansDays = series.values.length * bucketStep >= 2 * DAY_MS;
  if (gaps.missingSteps > 0) {
    notes.push(
      `${gaps.gapCount} gap${gaps.gapCount === 1 ? '' : 's'} in the trace (${gaps.missingSteps} missing ${formatDuration(bucketStep)} steps, longest ${formatDuration(gaps.longestGapMs)}), filled ${spansDays ? 'from the same time a day earlier, joined to both edges' : 'by linear interpolation'}`,
    );
  }
  const filled = fillGaps(series.values, spansDays ? Math.round(DAY_MS / bucketStep) : 0);
  if (!filled.every(Number.isFinite)) throw new Error('the trace has values that are not numbers after filling its gaps');
  if (bucketStep === MINUTE_MS) {
    if (step < MINUTE_MS) notes.push(`trace step ${formatDuration(step)} averaged to 1m`);
    return { demand: { start, stepMs: MINUTE_MS, values: filled }, nativeStepMs: step, notes };
  }
  const ratio = bucketStep / MINUTE_MS;
  const values: number[] = [];
  for (let i = 0; i < filled.length; i++) {
    const a = filled[i]!;
    const b = filled[Math.min(i + 1, filled.length - 1)]!;
    for (let k = 0; k < ratio; k++) values.push(a + ((b - a) * k) / ratio);
  }
  notes.push(`trace step ${formatDuration(step)} interpolated linearly to 1m`);
  return { demand: { start, stepMs: MINUTE_MS, values }, nativeStepMs: step, notes };
}
