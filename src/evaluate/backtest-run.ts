// `prescale backtest`: rolling-origin evaluation of the forecasting models on a trace (SPEC section 6).
import { formatDuration } from '../api/units.js';
import { backtest, foldOrigins } from '../forecast/backtest.js';
import { createForecaster, resolveModel } from '../forecast/registry.js';
import type { Forecaster, Series } from '../forecast/types.js';
import type { BacktestFold, BacktestReportData } from '../report/types.js';
import { resample, type TracePoint } from '../traces/csv.js';
import { nativeStep } from '../simulate/grid.js';
import { parseModelName } from './models.js';

export const DEFAULT_BACKTEST_MODELS = ['seasonal-naive', 'holt-winters', 'linear'];

/** The lead times whose decision windows `prescale backtest` scores unless told otherwise. */
export const DEFAULT_BACKTEST_LEAD_TIMES = ['2m', '10m'];

export interface BacktestRunOptions {
  traceName: string;
  points: readonly TracePoint[];
  horizonMs: number;
  models: string[];
  warmupMs: number;
  folds: number;
  /** Fit on at most this much history before each origin (spec.forecast.history). */
  historyMs: number;
  quantile: number;
  /** Lead times whose decision windows [now + lead, now + lead + interval] are scored. */
  leadTimesMs: readonly number[];
  /** The scaler's interval (spec.interval), the width of each decision window. */
  intervalMs: number;
  collectReport?: boolean;
  now?: () => Date;
}

/** A decision window's scores; see WindowScore for what each means. */
export interface BacktestWindowOutput {
  lead: string;
  mase: number | null;
  coverage: number | null;
  overForecast: number | null;
  underForecast: number | null;
  folds: number;
}

export interface BacktestOutput {
  trace: string;
  horizon: string;
  interval: string;
  quantile: number;
  models: {
    name: string;
    mase: number | null;
    smape: number | null;
    coverage: number | null;
    fitSeconds: number | null;
    predictMillis: number | null;
    windows: BacktestWindowOutput[];
  }[];
}

export function runBacktest(o: BacktestRunOptions): { output: BacktestOutput; report?: BacktestReportData; notes: string[] } {
  const factories: Record<string, () => Forecaster> = {};
  for (const name of o.models) {
    const model = parseModelName(name);
    if (resolveModel(model).fallbackReason) throw new Error(`model "${name}" is not available in this version; use ${[...DEFAULT_BACKTEST_MODELS, 'ensemble'].join(', ')}`);
    factories[name] = () => createForecaster(model, { seasonality: 'Auto', horizonSteps: Math.max(1, Math.ceil(o.horizonMs / nativeStep(o.points))) });
  }
  const step = nativeStep(o.points);
  const { series, gaps } = resample(o.points, step);
  const notes: string[] = [`trace step ${formatDuration(step)}; ${series.values.length} points`];
  if (gaps.missingSteps > 0) notes.push(`${gaps.gapCount} gaps (${gaps.missingSteps} missing steps) left as gaps: models skip them and they are not scored`);
  const horizonSteps = Math.max(1, Math.ceil(o.horizonMs / step));
  const warmupSteps = Math.ceil(o.warmupMs / step);
  const options = { horizonSteps, warmupSteps, folds: o.folds, quantile: o.quantile, historySteps: Math.ceil(o.historyMs / step) };
  const result = backtest(series, factories, { ...options, leadTimesMs: o.leadTimesMs, intervalMs: o.intervalMs });
  notes.push(...windowNotes(o, step, result.predictSteps, horizonSteps));
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const output: BacktestOutput = {
    trace: o.traceName,
    horizon: formatDuration(o.horizonMs),
    interval: formatDuration(o.intervalMs),
    quantile: o.quantile,
    models: result.models.map((m) => ({
      name: m.name,
      mase: finite(m.mase),
      smape: finite(m.smape),
      coverage: finite(m.coverage),
      fitSeconds: finite(m.fitSeconds),
      predictMillis: finite(m.predictMillis),
      windows: m.windows.map((w) => ({
        lead: formatDuration(w.leadMs),
        mase: finite(w.mase),
        coverage: finite(w.coverage),
        overForecast: finite(w.overForecast),
        underForecast: finite(w.underForecast),
        folds: w.folds,
      })),
    })),
  };
  for (const m of result.models) if (m.failures > 0) notes.push(`${m.name} failed on ${m.failures} of ${m.failures + m.folds} folds (${m.lastError})`);
  if (!o.collectReport) return { output, notes };
  return {
    output,
    notes,
    report: {
      trace: o.traceName,
      generatedAt: (o.now ?? (() => new Date()))().toISOString(),
      horizonMs: o.horizonMs,
      quantile: o.quantile,
      intervalMs: o.intervalMs,
      models: result.models.map((m) => ({
        name: m.name,
        mase: m.mase,
        smape: m.smape,
        coverage: m.coverage,
        fitSeconds: m.fitSeconds,
        predictMillis: m.predictMillis,
        windows: m.windows,
      })),
      folds: sampleFolds(series, factories, options),
      notes,
    },
  };
}

/** What a reader of the window scores should know about how this trace's grid shaped them. */
function windowNotes(o: BacktestRunOptions, stepMs: number, predictSteps: number, horizonSteps: number): string[] {
  const notes: string[] = [];
  const short = o.leadTimesMs.filter((lead) => lead + o.intervalMs < stepMs);
  if (short.length > 0) {
    notes.push(
      `lead time ${short.map(formatDuration).join(', ')} + interval ${formatDuration(o.intervalMs)} ends before the first forecast point ` +
        `(step ${formatDuration(stepMs)}): scored at that first point, the one the scaler then plans on`,
    );
  }
  if (predictSteps > horizonSteps) {
    notes.push(`forecasts run ${predictSteps} steps to reach the furthest decision window; MASE, sMAPE and coverage still score the ${formatDuration(o.horizonMs)} horizon`);
  }
  return notes;
}

/** Re-runs a few evenly spaced folds to plot their forecasts against what happened. */
function sampleFolds(
  series: Series,
  factories: Record<string, () => Forecaster>,
  o: { horizonSteps: number; warmupSteps: number; folds: number; quantile: number; historySteps: number },
): BacktestFold[] {
  const origins = foldOrigins(series.values.length, { ...o, folds: Math.min(4, o.folds) });
  const contextSteps = Math.max(o.horizonSteps * 3, 12);
  const levels = [0.05, o.quantile];
  return origins.map((origin) => {
    const from = Math.max(0, origin - o.historySteps);
    const history: Series = { start: series.start + from * series.stepMs, stepMs: series.stepMs, values: series.values.slice(from, origin) };
    const ctxFrom = Math.max(0, origin - contextSteps);
    return {
      origin: series.start + origin * series.stepMs,
      stepMs: series.stepMs,
      context: { start: series.start + ctxFrom * series.stepMs, stepMs: series.stepMs, values: series.values.slice(ctxFrom, origin) },
      actual: series.values.slice(origin, origin + o.horizonSteps),
      models: Object.entries(factories).flatMap(([name, make]) => {
        try {
          const f = make();
          f.fit(history);
          const p = f.predict(o.horizonSteps, levels);
          const band = (q: number) => p.quantiles.find((x) => Math.abs(x.q - q) < 1e-9)?.values ?? p.mean;
          return [{ name, mean: p.mean, lower: band(0.05), upper: band(o.quantile) }];
        } catch {
          return [];
        }
      }),
    };
  });
}
