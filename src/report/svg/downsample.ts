// Long series are reduced to what a pixel column can show: the minimum and the maximum of each
// bucket, in time order, so spikes and dips survive while the page stays small.
import type { TimeSeriesData } from '../../simulate/types.js';

/** A point in data space; y = NaN marks a gap (the line breaks there). */
export interface Point {
  x: number;
  y: number;
}

export interface EnvelopePoint {
  x: number;
  lo: number;
  hi: number;
}

/** The index range of `series` whose timestamps fall in [t0, t1]. */
function windowIndices(series: TimeSeriesData, t0: number, t1: number): [number, number] {
  const first = Math.max(0, Math.ceil((t0 - series.start) / series.stepMs - 1e-9));
  const last = Math.min(series.values.length - 1, Math.floor((t1 - series.start) / series.stepMs + 1e-9));
  return [first, last];
}

/**
 * The points of `series` within [t0, t1]; when there are more than two per bucket, only each
 * bucket's minimum and maximum (a bucket with no finite value becomes one gap point).
 */
export function downsampleMinMax(series: TimeSeriesData, t0: number, t1: number, buckets: number): Point[] {
  const [first, last] = windowIndices(series, t0, t1);
  const at = (i: number): Point => {
    const v = series.values[i];
    return { x: series.start + i * series.stepMs, y: Number.isFinite(v) ? v : NaN };
  };
  const points: Point[] = [];
  if (last < first) return points;
  if (last - first + 1 <= 2 * buckets) {
    for (let i = first; i <= last; i++) points.push(at(i));
    return points;
  }
  const bucketMs = (t1 - t0) / buckets;
  let i = first;
  while (i <= last) {
    const bucket = Math.min(buckets - 1, Math.floor((series.start + i * series.stepMs - t0) / bucketMs));
    let minIndex = -1;
    let maxIndex = -1;
    const bucketStart = i;
    for (; i <= last; i++) {
      const t = series.start + i * series.stepMs;
      if (Math.min(buckets - 1, Math.floor((t - t0) / bucketMs)) !== bucket) break;
      const v = series.values[i];
      if (!Number.isFinite(v)) continue;
      if (minIndex < 0 || v < series.values[minIndex]) minIndex = i;
      if (maxIndex < 0 || v > series.values[maxIndex]) maxIndex = i;
    }
    if (minIndex < 0) {
      points.push({ x: series.start + bucketStart * series.stepMs, y: NaN });
    } else if (minIndex === maxIndex) {
      points.push(at(minIndex));
    } else {
      points.push(at(Math.min(minIndex, maxIndex)), at(Math.max(minIndex, maxIndex)));
    }
  }
  return points;
}

/**
 * The band between `lower` and `upper` (same start and step) within [t0, t1]: per bucket the lowest
 * lower and the highest upper value, so the drawn band never looks narrower than the data.
 */
export function downsampleEnvelope(
  lower: TimeSeriesData,
  upper: TimeSeriesData,
  t0: number,
  t1: number,
  buckets: number,
): EnvelopePoint[] {
  const [first, last] = windowIndices(lower, t0, t1);
  const points: EnvelopePoint[] = [];
  if (last < first) return points;
  const step = lower.stepMs;
  const pointsPerBucket = Math.max(1, Math.ceil((last - first + 1) / buckets));
  for (let i = first; i <= last; i += pointsPerBucket) {
    let lo = Infinity;
    let hi = -Infinity;
    const end = Math.min(last, i + pointsPerBucket - 1);
    for (let j = i; j <= end; j++) {
      const l = lower.values[j];
      const u = upper.values[Math.round((lower.start + j * step - upper.start) / upper.stepMs)];
      if (Number.isFinite(l)) lo = Math.min(lo, l);
      if (Number.isFinite(u)) hi = Math.max(hi, u);
    }
    const x = lower.start + ((i + end) / 2) * step;
    points.push(Number.isFinite(lo) && Number.isFinite(hi) ? { x, lo, hi } : { x, lo: NaN, hi: NaN });
  }
  return points;
}

export interface ShadedSpan {
  start: number;
  end: number;
  /** Share of the steps in the span where demand exceeded capacity, rounded up to quarters. */
  share: number;
}

/**
 * Where `demand` exceeds `capacity` (matched by timestamp) within [t0, t1]. With no more steps than
 * buckets the spans are exact; otherwise each bucket (pixel column) gets the share of its steps
 * that were exceeded, so a scatter of single minutes does not paint a whole day solid. Neighbouring
 * spans with the same share are merged.
 */
export function exceedanceSpans(
  demand: TimeSeriesData,
  capacity: TimeSeriesData,
  t0: number,
  t1: number,
  buckets: number,
): ShadedSpan[] {
  const [first, last] = windowIndices(demand, t0, t1);
  const exceeded = (i: number): boolean => {
    const t = demand.start + i * demand.stepMs;
    const c = capacity.values[Math.round((t - capacity.start) / capacity.stepMs)];
    const d = demand.values[i];
    return Number.isFinite(d) && Number.isFinite(c) && d > c;
  };
  const spans: ShadedSpan[] = [];
  const add = (start: number, end: number, share: number): void => {
    const previous = spans[spans.length - 1];
    if (previous && previous.end >= start - 1e-6 && previous.share === share) previous.end = end;
    else spans.push({ start, end, share });
  };
  if (last - first + 1 <= buckets) {
    for (let i = first; i <= last; i++) {
      const t = demand.start + i * demand.stepMs;
      if (exceeded(i)) add(t, t + demand.stepMs, 1);
    }
    return spans;
  }
  const bucketMs = (t1 - t0) / buckets;
  const total = new Array<number>(buckets).fill(0);
  const over = new Array<number>(buckets).fill(0);
  for (let i = first; i <= last; i++) {
    const b = Math.min(buckets - 1, Math.floor((demand.start + i * demand.stepMs - t0) / bucketMs));
    total[b]++;
    if (exceeded(i)) over[b]++;
  }
  for (let b = 0; b < buckets; b++) {
    if (over[b] > 0) add(t0 + b * bucketMs, t0 + (b + 1) * bucketMs, Math.ceil((over[b] / total[b]) * 4) / 4);
  }
  return spans;
}
