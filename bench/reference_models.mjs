// What bench/references.mjs runs on each trace: the fold layout of `prescale backtest`, the models
// (prescale's by registry name, statsmodels' Holt-Winters in a Python child, augurs' MSTL in wasm),
// the scoring every model shares, and the trace classes the summary groups by.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initSync, MSTL } from '@bsull/augurs/mstl';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/**
 * Trace classes for the summary medians, from /work/shared/data/traces/README.md. The README says
 * only that "some" EC2/RDS CPU traces are flat with rare jumps; which ones was decided by looking at
 * them (12-hour medians and maxima): flat with spikes 24ae8d, 77c1ca, c6585a, fe7f93; level steps
 * 5f5533, ac20cd, rds cc0c53, rds e47b3b. 53ea38 and 825cc2 are noise around one level: no class.
 */
export const TRACE_CLASSES = {
  bursty: [/^nab-ec2-network-in-/, /^nab-ec2-disk-write-bytes-/, /^nab-iio-/, /^nab-twitter-volume-/],
  'level-shifting': [
    /^nab-grok-asg-anomaly\.csv$/,
    /^nab-cpu-utilization-asg-misconfiguration\.csv$/,
    /^nab-ec2-request-latency-system-failure\.csv$/,
    /^nab-ec2-cpu-utilization-(24ae8d|77c1ca|c6585a|fe7f93|5f5533|ac20cd)\.csv$/,
    /^nab-rds-cpu-utilization-(cc0c53|e47b3b)\.csv$/,
  ],
  seasonal: [/^nab-nyc-taxi\.csv$/, /^nab-elb-request-count-/, /^alibaba-/, /^google-/, /^azure-/, /^bitbrains-/],
};

export function classOf(traceName) {
  for (const [name, patterns] of Object.entries(TRACE_CLASSES)) if (patterns.some((p) => p.test(traceName))) return name;
  return 'other';
}

/** The compiled prescale modules the bench needs, from a dist directory (tsc output). */
export async function loadPrescale(distDir) {
  const load = (path) => import(pathToFileURL(join(distDir, path)).href);
  const [csv, grid, backtest, accuracy, registry, series] = await Promise.all(
    ['traces/csv.js', 'simulate/grid.js', 'forecast/backtest.js', 'forecast/accuracy.js', 'forecast/registry.js', 'forecast/series.js'].map(load),
  );
  return {
    loadTrace: csv.loadTrace,
    resample: csv.resample,
    nativeStep: grid.nativeStep,
    foldOrigins: backtest.foldOrigins,
    finiteMean: backtest.finiteMean,
    mase: accuracy.mase,
    coverage: accuracy.coverage,
    seasonalNaiveScale: accuracy.seasonalNaiveScale,
    createForecaster: registry.createForecaster,
    isModelName: registry.isModelName,
    fillGaps: series.fillGaps,
  };
}

/** Models that run on TensorFlow.js need its backend chosen first, as `prescale backtest` does. */
export const usesTensorflow = (modelNames) => modelNames.some((m) => m === 'LSTM' || m === 'Ensemble');

export async function selectTensorflowBackend(distDir) {
  const { selectBackend } = await import(pathToFileURL(join(distDir, 'forecast/tf/backend.js')).href);
  return (await selectBackend()).name;
}

/**
 * The folds of `prescale backtest` on a trace: its native step, `resample`, `foldOrigins`. When the
 * trace is too short for the warm-up and a horizon, the warm-up is cut to half the series (the CLI
 * would refuse the trace) and `warmupNote` says so.
 */
export function layoutFolds(ps, points, o) {
  const stepMs = ps.nativeStep(points);
  const { series, gaps } = ps.resample(points, stepMs);
  const length = series.values.length;
  const horizonSteps = Math.max(1, Math.ceil(o.horizonMs / stepMs));
  const historySteps = Math.ceil(o.historyMs / stepMs);
  let warmupSteps = Math.ceil(o.warmupMs / stepMs);
  let warmupNote = null;
  if (length - horizonSteps < warmupSteps) {
    warmupSteps = Math.max(1, Math.floor(length / 2));
    warmupNote = `trace spans ${((length * stepMs) / DAY_MS).toFixed(1)} d, too short for the ${o.warmupMs / DAY_MS} d warm-up: warm-up cut to half the series (${((warmupSteps * stepMs) / DAY_MS).toFixed(2)} d)`;
  }
  const origins = ps.foldOrigins(length, { horizonSteps, warmupSteps, folds: o.folds });
  const folds = origins.map((origin) => {
    const from = Math.max(0, origin - historySteps);
    return {
      origin,
      history: series.values.slice(from, origin),
      historyStart: series.start + from * stepMs,
      actual: series.values.slice(origin, origin + horizonSteps),
    };
  });
  return { series, gaps, stepMs, horizonSteps, historySteps, warmupSteps, warmupNote, daySteps: Math.round(DAY_MS / stepMs), folds };
}

/** Linear interpolation over NaN with the edges held (prescale's fillGaps(values, 0)); throws without any value. */
export function interpolateGaps(ps, values) {
  if (!values.some(Number.isFinite)) throw new Error('the history has no observed values');
  return ps.fillGaps(values, 0);
}

/**
 * Scores per-fold forecasts ({ mean, upper, fitSeconds } or { error }) exactly as `prescale backtest`
 * does: per-fold MASE against the seasonal-naive scale of the raw history (NaN steps skipped, a flat
 * history gives NaN and is left out of the mean), coverage of the upper quantile, means over folds.
 */
export function scoreFolds(ps, layout, forecasts) {
  const s = { mase: [], coverage: [], fit: [] };
  let failures = 0;
  let lastError;
  layout.folds.forEach((fold, i) => {
    const f = forecasts[i];
    if (!f || f.error || !Array.isArray(f.mean)) {
      failures++;
      lastError = f?.error ?? 'no forecast';
      return;
    }
    const mean = f.mean.map((x) => (x === null ? NaN : x));
    s.mase.push(ps.mase(fold.actual, mean, ps.seasonalNaiveScale(fold.history, layout.stepMs)));
    if (Array.isArray(f.upper)) s.coverage.push(ps.coverage(fold.actual, f.upper.map((x) => (x === null ? NaN : x))));
    s.fit.push(f.fitSeconds);
  });
  const finite = (x) => (Number.isFinite(x) ? x : null);
  return {
    mase: finite(ps.finiteMean(s.mase)),
    coverage: finite(ps.finiteMean(s.coverage)),
    folds: s.fit.length,
    failures,
    fitSeconds: finite(ps.finiteMean(s.fit)),
    ...(lastError === undefined ? {} : { lastError: String(lastError).slice(0, 300) }),
  };
}

const seconds = (fromMs) => (performance.now() - fromMs) / 1000;
const errorText = (e) => (e instanceof Error ? e.message : String(e));

/** A prescale model by registry name (HoltWinters, SeasonalNaive, ...), refitted on each fold. */
export function prescaleForecasts(ps, layout, modelName, quantile) {
  return layout.folds.map((fold) => {
    try {
      const forecaster = ps.createForecaster(modelName, { seasonality: 'Auto', horizonSteps: layout.horizonSteps });
      const started = performance.now();
      forecaster.fit({ start: fold.historyStart, stepMs: layout.stepMs, values: fold.history });
      const fitSeconds = seconds(started);
      const p = forecaster.predict(layout.horizonSteps, [quantile]);
      return { mean: p.mean, upper: p.quantiles[0]?.values ?? null, fitSeconds };
    } catch (e) {
      return { error: errorText(e) };
    }
  });
}

let augursReady = false;
/** Loads the MSTL wasm once per process (the package's own init would fetch it). */
export function initAugurs() {
  if (augursReady) return;
  const wasm = new URL('mstl_bg.wasm', import.meta.resolve('@bsull/augurs/mstl'));
  initSync({ module: readFileSync(fileURLToPath(wasm)) });
  augursReady = true;
}

/**
 * The level to ask augurs for so that the upper bound is the `quantile` quantile: augurs' intervals
 * are central (level 0.8 spans the 0.1 and 0.9 quantiles).
 */
export const centralLevelFor = (quantile) => 2 * quantile - 1;

/**
 * augurs MSTL with AutoETS on the deseasonalised series, refitted on each fold (NaN interpolated).
 * `periods` are in steps; periods the fold's history does not cover twice are dropped (counted in
 * `fallbacks`). `historySteps` may be longer than the layout's (the weekly variant).
 */
export function augursForecasts(ps, layout, { periods, quantile, historySteps = layout.historySteps }) {
  initAugurs();
  return layout.folds.map((fold) => {
    const from = Math.max(0, fold.origin - historySteps);
    const raw = historySteps === layout.historySteps ? fold.history : layout.series.values.slice(from, fold.origin);
    let model;
    try {
      const y = interpolateGaps(ps, raw);
      const used = periods.filter((p) => p >= 2 && y.length >= 2 * p);
      model = MSTL.ets(used);
      const started = performance.now();
      model.fit(y);
      const fitSeconds = seconds(started);
      const p = model.predict(layout.horizonSteps, centralLevelFor(quantile));
      return { mean: Array.from(p.point), upper: p.intervals ? Array.from(p.intervals.upper) : null, fitSeconds, periods: used, fallback: used.length < periods.length };
    } catch (e) {
      return { error: errorText(e) };
    } finally {
      model?.free();
    }
  });
}

/** Runs bench/reference_statsmodels.py on one job; resolves with its parsed answer. */
export function runStatsmodels(job, { python = '/usr/bin/python3', script, timeoutMs = 60 * 60_000 }) {
  return new Promise((resolve, reject) => {
    // One BLAS thread: the machine's cores are shared.
    const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'], env, timeout: timeoutMs });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString().trim();
      if (code !== 0) return reject(new Error(`statsmodels child exited with ${code ?? signal}: ${stderr.split('\n').slice(-3).join(' | ')}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()));
      } catch (e) {
        reject(new Error(`statsmodels child wrote no JSON: ${errorText(e)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** The statsmodels job for a layout: each fold's history with NaN as null (JSON.stringify does that). */
export function statsmodelsJob(layout, { trace, quantile, simulations, seed = 1 }) {
  return {
    trace,
    stepMs: layout.stepMs,
    seasonSteps: layout.daySteps,
    horizonSteps: layout.horizonSteps,
    quantile,
    simulations,
    seed,
    folds: layout.folds.map((f) => ({ origin: f.origin, history: f.history })),
  };
}

/**
 * Throws unless the statsmodels child saw the folds the JS side laid out: the same origins, history
 * lengths and missing counts, and (when `ps` is given) the same interpolated history (by its sum).
 */
export function assertSameFolds(layout, answer, ps) {
  const folds = answer?.folds;
  if (!Array.isArray(folds) || folds.length !== layout.folds.length) {
    throw new Error(`statsmodels answered ${folds?.length} folds for ${layout.folds.length}`);
  }
  layout.folds.forEach((fold, i) => {
    const a = folds[i];
    const missing = fold.history.filter((v) => !Number.isFinite(v)).length;
    if (a.origin !== fold.origin || a.historyLength !== fold.history.length || a.missing !== missing) {
      throw new Error(`fold ${i}: JS origin ${fold.origin}, history ${fold.history.length}, missing ${missing}; statsmodels ${a.origin}, ${a.historyLength}, ${a.missing}`);
    }
    if (ps && a.interpolatedSum !== undefined) {
      const sum = interpolateGaps(ps, fold.history).reduce((x, y) => x + y, 0);
      if (Math.abs(sum - a.interpolatedSum) > 1e-9 * Math.max(1, Math.abs(sum))) {
        throw new Error(`fold ${i}: interpolated history sums differ (JS ${sum}, statsmodels ${a.interpolatedSum})`);
      }
    }
  });
}
