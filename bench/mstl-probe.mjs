// One-off measurement for issue 15: the MSTL forecaster (augurs) against prescale's Holt-Winters on
// dev traces, refitted at every origin or fitted some hours earlier and brought up to date with
// update(); which periods to give MSTL (season.ts's autocorrelation rule, one day only, augurs'
// periodogram); how the update's level correction should be tuned. Scores with backtest().
//
//   node bench/mstl-probe.mjs --dist /tmp/mstl-build/dist [--traces a,b] [--folds 12] [--out /tmp/mstl-probe]
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, fmt, median, root } from './lib.mjs';

const dist = resolve(flag('--dist', '/tmp/mstl-build/dist'));
const traceDir = resolve(root, flag('--trace-dir', '../shared/data/traces/dev'));
const folds = Number(flag('--folds', '12'));
const out = flag('--out', '/tmp/mstl-probe');
const DEFAULT_TRACES = [
  'nab-elb-request-count-8c0756',
  'nab-twitter-volume-aapl',
  'nab-nyc-taxi',
  'alibaba-2018-cluster-cpu',
  'google-2019-cluster-cpu',
  'nab-ec2-cpu-utilization-825cc2',
  'nab-ec2-network-in-257a54',
  'nab-grok-asg-anomaly',
];
const traces = flag('--traces', DEFAULT_TRACES.join(',')).split(',').filter(Boolean);

const imp = (path) => import(pathToFileURL(join(dist, path)).href);
const { backtest } = await imp('forecast/backtest.js');
const { MstlForecaster } = await imp('forecast/mstl.js');
const { HoltWintersForecaster } = await imp('forecast/holtWinters.js');
const { fillGaps } = await imp('forecast/series.js');
const { parseTraceCsv, resample } = await imp('traces/csv.js');
const { nativeStep } = await imp('simulate/grid.js');
const seasons = await import('@bsull/augurs/seasons');
const requireHere = createRequire(import.meta.url);
seasons.initSync({ module: await readFile(new URL('seasons_bg.wasm', pathToFileURL(requireHere.resolve('@bsull/augurs/seasons')))) });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** MSTL with the periods augurs' periodogram finds in each history. */
function periodogramMstl(horizonSteps, found) {
  let inner;
  return {
    name: 'MSTL',
    minHistoryPoints: () => 12,
    fit(series) {
      const detected = Array.from(seasons.seasonalities(Float64Array.from(fillGaps(series.values))));
      found.push(detected.join('+') || 'none');
      inner = new MstlForecaster({ seasonality: detected.length > 0 ? detected.map((p) => p * series.stepMs) : 'None', horizonSteps });
      inner.fit(series);
    },
    predict: (steps, q) => inner.predict(steps, q),
    update: (s) => inner.update(s),
    describe: () => inner.describe(),
    exportState: () => inner.exportState(),
    importState: (s) => inner.importState(s),
  };
}

/**
 * Fitted `lagSteps` before the origin, then update()d with the whole history: what the operator
 * does between retrains. Fits are shared by the variants through an exported state.
 */
function fittedEarlier(make, lagSteps, cache, key, timing) {
  let inner;
  return {
    name: 'lagged',
    minHistoryPoints: (step) => make().minHistoryPoints(step),
    fit(series) {
      inner = make();
      const id = `${key}:${series.start}:${series.values.length}:${lagSteps}`;
      const earlier = { ...series, values: series.values.slice(0, series.values.length - lagSteps) };
      if (!cache.has(id)) {
        const fresh = make();
        fresh.fit(earlier);
        cache.set(id, fresh.exportState());
      }
      inner.importState(cache.get(id));
      // The operator updates every reconcile; replaying each new point as its own update is the same
      // arithmetic as one update with all of them (checked in the unit tests), so one call is timed.
      const started = performance.now();
      inner.update(series);
      timing.push(performance.now() - started);
    },
    predict: (steps, q) => inner.predict(steps, q),
    update: (s) => inner.update(s),
    describe: () => inner.describe(),
    exportState: () => inner.exportState(),
    importState: (s) => inner.importState(s),
  };
}

async function loadSeries(name) {
  const points = parseTraceCsv(await readFile(join(traceDir, `${name}.csv`), 'utf8'));
  const step = nativeStep(points);
  return resample(points, step).series;
}

function runOne(name, series, historyMs, weekly) {
  const step = series.stepMs;
  const horizonSteps = Math.max(1, Math.ceil((30 * MINUTE) / step));
  const historySteps = Math.ceil(historyMs / step);
  if (series.values.length < historySteps + horizonSteps + folds) return null;
  const cache = new Map();
  const timing = {};
  const lagged = (label, make, lagMs) => {
    timing[label] = [];
    return () => fittedEarlier(make, Math.round(lagMs / step), cache, label.split('@')[0], timing[label]);
  };
  const found = [];
  const mstl = (seasonality, tuning) => () => new MstlForecaster({ seasonality, horizonSteps, tuning });
  const models = weekly
    ? {
        HoltWinters: () => new HoltWintersForecaster({ seasonality: 'Auto' }),
        'MSTL auto': mstl('Auto'),
        'MSTL day': mstl([DAY]),
        'MSTL day+week': mstl([DAY, WEEK]),
        'MSTL periodogram': () => periodogramMstl(horizonSteps, found),
      }
    : {
        HoltWinters: () => new HoltWintersForecaster({ seasonality: 'Auto' }),
        'HoltWinters fit-6h+update': lagged('HW@6h', () => new HoltWintersForecaster({ seasonality: 'Auto' }), 6 * HOUR),
        'MSTL auto': mstl('Auto'),
        'MSTL day': mstl([DAY]),
        'MSTL periodogram': () => periodogramMstl(horizonSteps, found),
        'MSTL fit-3h+update a=1': lagged('MSTL@3h a1', mstl('Auto'), 3 * HOUR),
        'MSTL fit-3h+update a=0.5': lagged('MSTL@3h a.5', mstl('Auto', { levelSmoothing: 0.5 }), 3 * HOUR),
        'MSTL fit-3h+update a=0.2': lagged('MSTL@3h a.2', mstl('Auto', { levelSmoothing: 0.2 }), 3 * HOUR),
        'MSTL fit-3h+update a=1 phi=0.9': lagged('MSTL@3h a1p.9', mstl('Auto', { levelSmoothing: 1, correctionDamping: 0.9 }), 3 * HOUR),
        'MSTL fit-3h, path only': lagged('MSTL@3h a0', mstl('Auto', { levelSmoothing: 0 }), 3 * HOUR),
        'MSTL fit-6h+update a=1': lagged('MSTL@6h a1', mstl('Auto'), 6 * HOUR),
        'MSTL fit-6h+update a=0.5': lagged('MSTL@6h a.5', mstl('Auto', { levelSmoothing: 0.5 }), 6 * HOUR),
        'MSTL fit-6h, path only': lagged('MSTL@6h a0', mstl('Auto', { levelSmoothing: 0 }), 6 * HOUR),
      };
  const result = backtest(series, models, { horizonSteps, warmupSteps: historySteps, folds, quantile: 0.9, historySteps });
  const updateMillis = Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, median(v)]));
  const describeFor = new MstlForecaster({ seasonality: 'Auto', horizonSteps });
  describeFor.fit({ ...series, values: series.values.slice(series.values.length - historySteps) });
  return { trace: name, stepMs: step, horizonSteps, historyDays: historyMs / DAY, models: result.models, updateMillis, periodogram: found, autoPeriods: describeFor.describe().periodsSteps };
}

const started = Date.now();
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' / ');
const results = [];
for (const name of traces) {
  const series = await loadSeries(name);
  for (const [historyMs, weekly] of [[7 * DAY, false], [21 * DAY, true]]) {
    const t0 = Date.now();
    const r = runOne(name, series, historyMs, weekly);
    if (!r) continue;
    results.push(r);
    console.error(`${name} ${historyMs / DAY}d: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const m of r.models) console.error(`  ${m.name.padEnd(34)} mase ${fmt(m.mase)} cov ${fmt(m.coverage)} fit ${fmt(m.fitSeconds)} s failures ${m.failures}${m.lastError ? ` (${m.lastError})` : ''}`);
  }
}
const loadAtEnd = loadavg().map((x) => x.toFixed(2)).join(' / ');

function table(rows, title) {
  if (rows.length === 0) return '';
  const names = rows[0].models.map((m) => m.name);
  const lines = [`### ${title}`, '', `| trace | step | ${names.join(' | ')} |`, `|---|---|${names.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.trace} | ${r.stepMs / MINUTE}m | ${r.models.map((m) => `${fmt(m.mase)} (${fmt(m.coverage, 2)})`).join(' | ')} |`);
  lines.push(`| **median MASE** | | ${names.map((n) => `**${fmt(median(rows.map((r) => r.models.find((m) => m.name === n).mase)))}**`).join(' | ')} |`);
  lines.push(`| median coverage q0.9 | | ${names.map((n) => fmt(median(rows.map((r) => r.models.find((m) => m.name === n).coverage)), 2)).join(' | ')} |`);
  lines.push(`| median fit s | | ${names.map((n) => fmt(median(rows.map((r) => r.models.find((m) => m.name === n).fitSeconds)), 2)).join(' | ')} |`);
  lines.push('');
  lines.push('Periods (steps): ' + rows.map((r) => `${r.trace}: auto [${r.autoPeriods.join(', ')}] on the last history, periodogram ${[...new Set(r.periodogram)].join(' / ')}`).join('; '));
  lines.push('');
  lines.push('Median update() ms: ' + rows.map((r) => `${r.trace}: ${Object.entries(r.updateMillis).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`).join('; '));
  return lines.join('\n');
}

const md = [
  `## MSTL probe (issue 15)`,
  '',
  `Command: \`node bench/mstl-probe.mjs --dist ${dist} --folds ${folds}\`; ${((Date.now() - started) / 1000).toFixed(0)} s wall; load average ${loadAtStart} at the start, ${loadAtEnd} at the end (2 cores shared).`,
  `Cells: MASE (coverage of q0.9). Horizon 30 min; ${folds} folds; history = warm-up as titled.`,
  '',
  table(results.filter((r) => r.historyDays === 7), '7-day history'),
  '',
  table(results.filter((r) => r.historyDays === 21), '21-day history (weekly season possible)'),
].join('\n');
await writeFile(`${out}.json`, JSON.stringify(results, null, 2));
await writeFile(`${out}.md`, md);
console.log(md);
