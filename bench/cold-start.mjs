#!/usr/bin/env node
// Cold start (issue 15): how well each model forecasts when a scaler is young. Rolling origins on
// every dev trace with at least 7 days before the first origin; at each origin every model is fitted
// on only the last 6 h, 1 day or 3 days of history (HoltWinters, the reference, on 7 days), forecasts
// the horizon, and is scored by MASE.
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/pretrained-build/dist
//   node bench/cold-start.mjs --dist /tmp/pretrained-build/dist [--folds 12] [--horizon-min 30] [--only SUBSTRING]
//
// One MASE denominator per origin for every row: the in-sample MAE of the 1-day seasonal-naive
// forecast over the 7 days before the origin (seasonalNaiveScale). A scale from the short history
// itself (6 h: lag 1) would make the rows incomparable.
// Held out = the traces hack/train-global-model.mjs did not train on (its fixed hash split); the
// others are in-sample for the Pretrained model (it saw their windows, at other history cuts).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, fmt, median, resultsDir, root } from './lib.mjs';
import { devGroup, isHeldOut } from '../hack/train-global-model.mjs';

const dist = resolve(flag('--dist', join(root, 'dist')));
const traceDir = resolve(root, flag('--traces', '../shared/data/traces/dev'));
const folds = Number(flag('--folds', '12'));
const horizonMs = Number(flag('--horizon-min', '30')) * 60_000;
const only = flag('--only', '');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HISTORIES = [
  { label: '6h', ms: 6 * HOUR },
  { label: '1d', ms: DAY },
  { label: '3d', ms: 3 * DAY },
];
const REFERENCE_MS = 7 * DAY;

const load = (path) => import(pathToFileURL(join(dist, path)).href);
const [{ createForecaster }, { PretrainedForecaster }, { bundledGlobalModel }, { mase, seasonalNaiveScale }, { foldOrigins }, csv, { nativeStep }] = await Promise.all([
  load('forecast/registry.js'), load('forecast/pretrained/forecaster.js'), load('forecast/pretrained/bundled.js'), load('forecast/accuracy.js'),
  load('forecast/backtest.js'), load('traces/csv.js'), load('simulate/grid.js'),
]);
const globalModel = bundledGlobalModel();

/** The models, each with the history lengths it is fitted on. */
const MODELS = [
  { name: 'Pretrained', histories: [...HISTORIES, { label: '7d', ms: REFERENCE_MS }], make: () => new PretrainedForecaster({ model: globalModel }) },
  { name: 'Pretrained (global head only)', histories: HISTORIES, make: () => new PretrainedForecaster({ model: globalModel, fineTune: false }) },
  { name: 'SeasonalNaive', histories: [...HISTORIES, { label: '7d', ms: REFERENCE_MS }], make: () => createForecaster('SeasonalNaive', { seasonality: 'Auto' }) },
  { name: 'Linear', histories: HISTORIES, make: () => createForecaster('Linear') },
  { name: 'HoltWinters', histories: [{ label: '7d', ms: REFERENCE_MS }], make: () => createForecaster('HoltWinters', { seasonality: 'Auto' }) },
];
const rowKey = (model, label) => `${model} @ ${label}`;

function evaluateTrace(file) {
  const points = csv.parseTraceCsv(readFileSync(join(traceDir, file), 'utf8'));
  const step = nativeStep(points);
  const series = csv.resample(points, step).series;
  const horizon = Math.max(1, Math.ceil(horizonMs / step));
  const referenceSteps = Math.round(REFERENCE_MS / step);
  if (series.values.length < referenceSteps + horizon) return { trace: file, stepMs: step, skipped: `shorter than 7 days + the horizon (${series.values.length} steps)` };
  const origins = foldOrigins(series.values.length, { horizonSteps: horizon, warmupSteps: referenceSteps, folds });
  const scores = {};
  const failures = {};
  const tuned = [];
  for (const origin of origins) {
    const actual = series.values.slice(origin, origin + horizon);
    const scale = seasonalNaiveScale(series.values.slice(origin - referenceSteps, origin), step);
    for (const model of MODELS) {
      for (const history of model.histories) {
        const key = rowKey(model.name, history.label);
        const from = origin - Math.round(history.ms / step);
        const fitted = { start: series.start + from * step, stepMs: step, values: series.values.slice(from, origin) };
        try {
          const forecaster = model.make();
          forecaster.fit(fitted);
          const forecast = forecaster.predict(horizon, [0.9]);
          (scores[key] ??= []).push(mase(actual, forecast.mean, scale));
          if (model.name === 'Pretrained') tuned.push(forecaster.describe().fineTuned === true);
        } catch (error) {
          failures[key] = (failures[key] ?? 0) + 1;
          if (process.env.COLD_START_DEBUG) process.stderr.write(`${file} ${key}: ${error.message}\n`);
        }
      }
    }
  }
  const meanOf = (xs) => { const f = xs.filter(Number.isFinite); return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null; };
  return {
    trace: file,
    heldOut: isHeldOut(devGroup(file)),
    stepMs: step,
    folds: origins.length,
    horizonSteps: horizon,
    mase: Object.fromEntries(Object.entries(scores).map(([k, xs]) => [k, meanOf(xs)])),
    foldMase: scores,
    failures,
    pretrainedFineTunedShare: tuned.length ? tuned.filter(Boolean).length / tuned.length : null,
  };
}

function summarise(rows) {
  const keys = MODELS.flatMap((m) => m.histories.map((h) => rowKey(m.name, h.label)));
  return Object.fromEntries(keys.map((key) => {
    const values = rows.map((r) => r.mase[key]).filter((x) => x !== null && Number.isFinite(x));
    return [key, { medianMase: median(values), traces: values.length }];
  }));
}

/** Traces where the Pretrained model at `label` has a lower mean MASE than `other`. */
function wins(rows, label, other) {
  const both = rows.filter((r) => Number.isFinite(r.mase[rowKey('Pretrained', label)]) && Number.isFinite(r.mase[other]));
  return { wins: both.filter((r) => r.mase[rowKey('Pretrained', label)] < r.mase[other]).length, of: both.length };
}

function table(title, rows) {
  const s = summarise(rows);
  const cell = (model, label) => { const v = s[rowKey(model, label)]; return v ? fmt(v.medianMase) : ''; };
  const labels = ['6h', '1d', '3d', '7d'];
  const lines = [
    `### ${title} (${rows.length} traces)`,
    '',
    `| model | ${labels.map((l) => `${l} of history`).join(' | ')} |`,
    `|---|${labels.map(() => '---:').join('|')}|`,
    ...MODELS.map((m) => `| ${m.name} | ${labels.map((l) => cell(m.name, l) || '—').join(' | ')} |`),
    '',
    ...HISTORIES.map(({ label }) => {
      const sn = wins(rows, label, rowKey('SeasonalNaive', label));
      const hw = wins(rows, label, rowKey('HoltWinters', '7d'));
      return `- Pretrained @ ${label} beats SeasonalNaive @ ${label} on ${sn.wins} of ${sn.of} traces, HoltWinters @ 7d on ${hw.wins} of ${hw.of}.`;
    }),
    '',
  ];
  return lines.join('\n');
}

const started = Date.now();
const loadBefore = loadavg();
const files = readdirSync(traceDir).filter((n) => n.endsWith('.csv') && n.includes(only)).sort();
const rows = [];
for (const file of files) {
  rows.push(evaluateTrace(file));
  process.stderr.write(`${file} done (${Math.round((Date.now() - started) / 1000)} s)\n`);
}
const seconds = Math.round((Date.now() - started) / 1000);
const loadAfter = loadavg();
const scored = rows.filter((r) => !r.skipped);
const heldOut = scored.filter((r) => r.heldOut);
const inSample = scored.filter((r) => !r.heldOut);
const command = `node bench/cold-start.mjs --dist ${flag('--dist', 'dist')} --folds ${folds} --horizon-min ${horizonMs / 60_000}${only ? ` --only ${only}` : ''}`;
const result = {
  command, seconds, folds, horizonMs, weightsSha256: globalModel.sha256,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadBefore, loadAfter },
  summary: { heldOut: summarise(heldOut), inSample: summarise(inSample), all: summarise(scored) },
  rows,
};
const md = `## Cold start: forecasting from 6 h, 1 day and 3 days of history (issue 15)

Command: \`npx tsc -p tsconfig.build.json --outDir /tmp/pretrained-build/dist && ${command}\`

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; shared with other engineers' jobs:
load average ${loadBefore.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min) at the start, ${loadAfter.map((x) => x.toFixed(1)).join(' / ')} at the end; wall time ${seconds} s.
Weights: global-v1, sha256 \`${globalModel.sha256}\`.

Method: on every dev trace (/work/shared/data/traces/dev, each at its native step) with 7 days before
the first origin, ${folds} rolling origins spread evenly over the rest, a ${horizonMs / 60_000}-minute horizon. At each
origin each model is fitted on only the last 6 h, 1 day or 3 days (and 7 days where shown) before it.
Cells: the median over traces of each trace's mean MASE over its folds. **One MASE denominator for
every row of an origin**: the in-sample MAE of the 1-day seasonal-naive forecast over the 7 days before
the origin (seasonalNaiveScale of that window), so the rows share a scale; a scale from the short
history itself would not be comparable. Point forecasts: Pretrained's median, the other models' mean.

- Pretrained: the global network, fine-tuned on the scaler's own history when it holds a day (so at
  1d, 3d, 7d; at 6 h it is the global head). "global head only" turns fine-tuning off.
- SeasonalNaive (Auto) with a short history: no season is detected in 6 h or 1 day, so it repeats the
  last hour (its fallback: the shortest candidate period the history holds); with 3 days it finds the
  daily season when there is one.
- Linear: the 2-hour trend. HoltWinters: the reference, on 7 days.
- Held out: traces hack/train-global-model.mjs did not train on (its fixed hash split, chosen before
  training, never tuned on). In-sample: traces whose windows the model trained on (at other cuts of
  history); shown for completeness, the held-out table is the evidence.

${table('Held-out traces', heldOut)}
${table('In-sample traces', inSample)}
${table('All traces', scored)}
Skipped: ${rows.filter((r) => r.skipped).map((r) => `${r.trace} (${r.skipped})`).join('; ') || 'none'}.

Per-trace figures: bench/results/cold-start.json.

Data: NAB (Numenta, MIT-style licence; Ahmad et al. 2017), Alibaba cluster-trace-v2018 (CC-BY-4.0),
Google cluster-data 2019 (CC-BY; Wilkes 2020), Azure Public Dataset V2 (CC-BY-4.0; Cortez et al. 2017),
Bitbrains GWA-T-12 (research use with citation; Shen et al. 2015); see raw/*/SOURCE.md.
`;
writeFileSync(join(resultsDir, 'cold-start.json'), `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(join(resultsDir, 'cold-start.md'), md);
process.stdout.write(md);
