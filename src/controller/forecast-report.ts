// Turns forecasts into what status and metrics show: the latest observation, the forecast values at
// the planning point, the peak with its band, and the error of past forecasts once the truth is known.
import type { ScalerConfig } from '../api/config.js';
import type { ForecastStatus, ModelStatus } from '../api/types.js';
import type { MemberScore } from '../forecast/ensemble.js';
import { planningValues } from '../decision/window.js';
import type { Decision } from '../decision/types.js';
import type { Forecast, Series } from '../forecast/types.js';
import type { ModelOutcome } from './models.js';

export interface Observation {
  time: number;
  value: number;
}

/** An observation older than this is stale: the metric is treated as having no data. */
export const STALENESS_MS = 5 * 60_000;

/** The newest finite sample, if it is recent enough to act on. */
export function latestObservation(series: Series, now: number): Observation | undefined {
  const maxAge = Math.max(STALENESS_MS, 3 * series.stepMs);
  for (let i = series.values.length - 1; i >= 0; i--) {
    const time = series.start + i * series.stepMs;
    if (now - time > maxAge) return undefined;
    const value = series.values[i]!;
    if (Number.isFinite(value)) return { time, value };
  }
  return undefined;
}

function indexAt(forecast: Forecast, time: number): number | undefined {
  const i = Math.round((time - forecast.start) / forecast.stepMs);
  return i >= 0 && i < forecast.mean.length ? i : undefined;
}

/** Each quantile's value (and the mean) at the point nearest `time`, labelled for the metric. */
export function planningPointValues(forecast: Forecast, time: number): [string, number][] {
  const i = indexAt(forecast, time) ?? (time < forecast.start ? 0 : forecast.mean.length - 1);
  const out: [string, number][] = forecast.quantiles.map((q) => [String(q.q), q.values[i]!]);
  out.push(['mean', forecast.mean[i]!]);
  return out.filter(([, v]) => Number.isFinite(v));
}

/**
 * |forecast - actual| / |actual| in percent, for the newest forecast made at least `leadTimeMs`
 * before the observation (the forecast the decision relied on).
 */
export function forecastAbsPctError(past: { madeAt: number; forecast: Forecast }[], obs: Observation, leadTimeMs: number): number | undefined {
  for (let k = past.length - 1; k >= 0; k--) {
    const p = past[k]!;
    if (p.madeAt > obs.time - leadTimeMs) continue;
    const i = indexAt(p.forecast, obs.time);
    if (i === undefined) continue;
    const predicted = p.forecast.mean[i]!;
    if (!Number.isFinite(predicted) || obs.value === 0) return undefined;
    return (Math.abs(predicted - obs.value) / Math.abs(obs.value)) * 100;
  }
  return undefined;
}

/** How many values status.forecast.points holds at most: a sparkline's worth, so status stays small. */
export const MAX_FORECAST_POINTS = 24;

/**
 * status.forecast: the peak of the planning quantile from now to the end of the horizon, for the
 * metric that drove the decision, with the 5 %..95 % band at that moment, and that quantile's values
 * over the horizon at up to MAX_FORECAST_POINTS evenly spaced points (for `prescale status`).
 */
export function forecastSummary(cfg: ScalerConfig, decision: Decision, outcomes: Map<string, ModelOutcome>, now: number): ForecastStatus | undefined {
  const ranked = [...decision.metrics].sort((a, b) => (b.predictive ?? -1) - (a.predictive ?? -1));
  const driver = ranked.find((m) => outcomes.get(m.name)?.forecast);
  if (!driver) return undefined;
  const outcome = outcomes.get(driver.name)!;
  const f = outcome.forecast!;
  const { values } = planningValues(f, cfg.forecast.quantile);
  const horizonEnd = now + cfg.forecast.horizonMs;
  const inHorizon: number[] = [];
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const t = f.start + i * f.stepMs;
    if (t < now - f.stepMs || t > horizonEnd) continue;
    inHorizon.push(i);
    if (!Number.isFinite(values[i]!)) continue;
    if (best < 0 || values[i]! > values[best]!) best = i;
  }
  if (best < 0) return undefined;
  const band = (q: number, fallback: number) => f.quantiles.find((x) => Math.abs(x.q - q) < 1e-9)?.values[best] ?? fallback;
  const peak = values[best]!;
  return {
    model: outcome.model ?? String(outcome.requestedModel),
    generatedAt: new Date(now).toISOString(),
    peak: round(peak),
    peakAt: new Date(f.start + best * f.stepMs).toISOString(),
    lower: round(Math.min(band(0.05, peak), peak)),
    upper: round(Math.max(band(0.95, peak), peak)),
    points: evenlySpaced(inHorizon, MAX_FORECAST_POINTS)
      .map((i) => values[i]!)
      .filter(Number.isFinite)
      .map((v) => Number(v.toPrecision(3))),
  };
}

/** At most `count` items of `items`, evenly spaced, the first and the last included. */
function evenlySpaced<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  return Array.from({ length: count }, (_, k) => items[Math.round((k * (items.length - 1)) / (count - 1))]!);
}

/** Four significant digits: enough to read, and status does not churn on float noise. */
function round(x: number): number {
  return Number(x.toPrecision(4));
}

/**
 * How many steps to forecast so the horizon and the decision window (which starts leadTime after
 * now, and now may be a little past the last point) are both covered.
 */
export function forecastSteps(series: Series, cfg: ScalerConfig, now: number, leadTimeMs: number): number {
  const lastPoint = series.start + (series.values.length - 1) * series.stepMs;
  const needMs = Math.max(cfg.forecast.horizonMs, now - lastPoint + leadTimeMs + cfg.intervalMs);
  return Math.max(1, Math.ceil(needMs / cfg.forecast.stepMs));
}

/** The quantiles every forecast is asked for: the planning one and the band shown to users. */
export function requestedQuantiles(cfg: ScalerConfig): number[] {
  return [...new Set([0.05, 0.5, 0.95, cfg.forecast.quantile])].sort((a, b) => a - b);
}

/**
 * status.models entries for one metric's model: the model itself, or for an Ensemble each member
 * with its weight and validation MASE (members without weight were dropped; the reason is logged).
 */
export function modelStatuses(o: ModelOutcome): ModelStatus[] {
  if (!o.model) return [];
  const trainedAt = o.trainedAt ? { trainedAt: new Date(o.trainedAt).toISOString() } : {};
  const round = (x: number) => Number(x.toPrecision(3));
  const members = o.details?.members;
  if (Array.isArray(members)) {
    return (members as MemberScore[]).map((m) => ({
      name: m.name,
      weight: round(m.weight),
      ...(m.mase !== undefined ? { mase: round(m.mase) } : {}),
      ...trainedAt,
    }));
  }
  return [{ name: o.model, ...(o.mase !== undefined ? { mase: round(o.mase) } : {}), ...trainedAt }];
}
