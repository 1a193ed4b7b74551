// One metric's demand chart as the web view draws it: the observed history up to now, then the
// forecast with its band, on one time axis, reduced to a bounded number of points.
import { planningValues } from '../decision/window.js';
import type { Forecast, Series } from '../forecast/types.js';

/** The band drawn around the forecast: the quantiles every forecast is asked for. */
export const BAND_QUANTILES = { lower: 0.05, upper: 0.95 } as const;

export interface DemandChart {
  metric: string;
  /** The planning quantile (spec.forecast.quantile). */
  quantile: number;
  /** Which forecast series `planning` holds: that quantile, or the mean when the model lacks it. */
  planningSource: 'quantile' | 'mean';
  /** ms since the epoch, ascending. The value arrays are aligned with it; NaN is a gap. */
  times: number[];
  observed: number[];
  lower: number[];
  planning: number[];
  upper: number[];
}

export interface DemandInput {
  metric: string;
  quantile: number;
  now: number;
  history?: Series;
  forecast?: Forecast;
}

export interface DemandLimits {
  /** How far back the observed history reaches. */
  historyMs: number;
  /** Points kept in all; longer charts are merged into buckets (max of observed and upper, min of lower). */
  maxPoints: number;
}

export const DEFAULT_DEMAND_LIMITS: DemandLimits = { historyMs: 6 * 3600_000, maxPoints: 480 };

/** Forecast points read at most: a horizon beyond this is cut (the spec allows 10,000 steps). */
const MAX_FORECAST_POINTS = 10_000;

interface Row {
  time: number;
  observed: number;
  lower: number;
  planning: number;
  upper: number;
}

export function demandChart(input: DemandInput, limits: DemandLimits = DEFAULT_DEMAND_LIMITS): DemandChart {
  const rows = [...historyRows(input.history, input.now, limits.historyMs), ...forecastRows(input.forecast, input.quantile)];
  rows.sort((a, b) => a.time - b.time);
  const merged = mergeBuckets(rows, limits.maxPoints);
  return {
    metric: input.metric,
    quantile: input.quantile,
    planningSource: input.forecast ? planningValues(input.forecast, input.quantile).source : 'quantile',
    times: merged.map((r) => r.time),
    observed: merged.map((r) => r.observed),
    lower: merged.map((r) => r.lower),
    planning: merged.map((r) => r.planning),
    upper: merged.map((r) => r.upper),
  };
}

function historyRows(series: Series | undefined, now: number, historyMs: number): Row[] {
  if (!series || !(series.stepMs > 0)) return [];
  const first = Math.max(0, Math.ceil((now - historyMs - series.start) / series.stepMs));
  const last = Math.min(series.values.length - 1, Math.floor((now - series.start) / series.stepMs));
  const rows: Row[] = [];
  for (let i = first; i <= last; i++) {
    rows.push({ time: series.start + i * series.stepMs, observed: finiteOrNaN(series.values[i]), lower: NaN, planning: NaN, upper: NaN });
  }
  return rows;
}

function forecastRows(forecast: Forecast | undefined, quantile: number): Row[] {
  if (!forecast || !(forecast.stepMs > 0)) return [];
  const planning = planningValues(forecast, quantile).values;
  const band = (q: number) => forecast.quantiles.find((x) => Math.abs(x.q - q) < 1e-9)?.values;
  const lower = band(BAND_QUANTILES.lower);
  const upper = band(BAND_QUANTILES.upper);
  const n = Math.min(forecast.mean.length, MAX_FORECAST_POINTS);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      time: forecast.start + i * forecast.stepMs,
      observed: NaN,
      lower: finiteOrNaN(lower?.[i]),
      planning: finiteOrNaN(planning[i]),
      upper: finiteOrNaN(upper?.[i]),
    });
  }
  return rows;
}

/** Consecutive rows merged so at most `maxPoints` remain; each bucket keeps its first time. */
function mergeBuckets(rows: Row[], maxPoints: number): Row[] {
  if (rows.length <= maxPoints) return rows;
  const size = Math.ceil(rows.length / maxPoints);
  const out: Row[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const bucket = rows.slice(start, start + size);
    out.push({
      time: bucket[0]!.time,
      observed: extreme(bucket.map((r) => r.observed), Math.max),
      lower: extreme(bucket.map((r) => r.lower), Math.min),
      planning: extreme(bucket.map((r) => r.planning), Math.max),
      upper: extreme(bucket.map((r) => r.upper), Math.max),
    });
  }
  return out;
}

function extreme(values: number[], pick: (...xs: number[]) => number): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? NaN : pick(...finite);
}

function finiteOrNaN(x: number | undefined): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : NaN;
}
