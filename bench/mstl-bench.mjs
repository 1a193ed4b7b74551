#!/usr/bin/env node
// Issue 15: prescale's MSTL forecaster (src/forecast/mstl.ts, augurs' MSTL + AutoETS in wasm) against
// prescale's HoltWinters and SeasonalNaive on the backtest folds of every dev trace, the folds of
// bench/references.mjs (bench/reference_models.mjs layoutFolds / scoreFolds: 24 origins, 30-minute
// horizon, 7-day history, 7-day warm-up), and as an Ensemble member: the product's EnsembleForecaster
// over the statistical members of registry.ts ENSEMBLE_MEMBERS (HoltWinters, SeasonalNaive, Linear;
// the LSTM left out for cost) with and without MSTL, scored on the same folds.
//
// Traces run one after another in this one process (the machine's cores are shared). Each trace's
// result is kept in --cache, so an interrupted run resumes; --report-only re-renders from the cache.
// Writes bench/results/mstl.json and bench/results/mstl.md (or --out PATH_BASE).
//
//   node_modules/.bin/tsc -p tsconfig.build.json --outDir /tmp/mstl-build/dist
//   echo '{"type":"module"}' > /tmp/mstl-build/dist/package.json; ln -s $PWD/node_modules /tmp/mstl-build/node_modules
//   node bench/mstl-bench.mjs --dist /tmp/mstl-build/dist [--traces a.csv,b.csv] [--folds 24]
//        [--cache /tmp/mstl-bench] [--no-weekly] [--no-ensemble] [--out PATH_BASE] [--report-only]
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, fmt as f, hasFlag, median, resultsDir, root } from './lib.mjs';
import { DAY_MS, TRACE_CLASSES, WEEK_MS, classOf, layoutFolds, loadPrescale, scoreFolds } from './reference_models.mjs';

const QUANTILE = 0.9;
const distDir = resolve(flag('--dist', '/tmp/mstl-build/dist'));
if (resolve(distDir) === resolve(root, 'dist') && !hasFlag('--allow-main-dist')) throw new Error('build into your own dist (--dist); /work/main/dist is shared');
const traceDir = resolve(root, flag('--trace-dir', '../shared/data/traces/dev'));
const subset = flag('--traces', '').split(',').filter(Boolean);
const cacheDir = resolve(flag('--cache', '/tmp/mstl-bench'));
const outBase = resolve(flag('--out', join(resultsDir, 'mstl')));
const settings = {
  folds: Number(flag('--folds', '24')),
  horizonMs: 30 * 60_000,
  historyMs: 7 * DAY_MS,
  warmupMs: 7 * DAY_MS,
  weeklyHistoryMs: 21 * DAY_MS,
  quantile: QUANTILE,
  weekly: !hasFlag('--no-weekly'),
  ensemble: !hasFlag('--no-ensemble'),
};

const imp = (p) => import(pathToFileURL(join(distDir, p)).href);
const ps = await loadPrescale(distDir);
const { MstlForecaster } = await imp('forecast/mstl.js');
const { EnsembleForecaster } = await imp('forecast/ensemble.js');
const { ENSEMBLE_MEMBERS } = await imp('forecast/registry.js');
const STAT_MEMBERS = ENSEMBLE_MEMBERS.filter((m) => m !== 'LSTM');

const M = {
  hw: 'HoltWinters',
  sn: 'SeasonalNaive',
  mstl: 'MSTL day+week (7 d history)',
  mstlWeekly: 'MSTL day+week (21 d history)',
  ens: `Ensemble(${STAT_MEMBERS.join(', ')})`,
  ensMstl: `Ensemble(${STAT_MEMBERS.join(', ')}, MSTL)`,
};

const errorText = (e) => (e instanceof Error ? e.message : String(e));
const ms = (t0) => performance.now() - t0;

/**
 * One forecaster per fold, fitted afresh on `historySteps` before the origin (the layout's history
 * unless longer is asked for), timing fit and predict. Returns scoreFolds' input plus what it used.
 */
function forecasts(layout, make, historySteps = layout.historySteps, describe = () => ({})) {
  return layout.folds.map((fold) => {
    const from = Math.max(0, fold.origin - historySteps);
    const values = historySteps === layout.historySteps ? fold.history : layout.series.values.slice(from, fold.origin);
    try {
      const forecaster = make();
      let t0 = performance.now();
      forecaster.fit({ start: layout.series.start + from * layout.stepMs, stepMs: layout.stepMs, values });
      const fitMs = ms(t0);
      t0 = performance.now();
      const p = forecaster.predict(layout.horizonSteps, [QUANTILE]);
      const predictMs = ms(t0);
      return { mean: p.mean, upper: p.quantiles[0]?.values ?? null, fitSeconds: fitMs / 1000, predictMs, ...describe(forecaster) };
    } catch (e) {
      return { error: errorText(e) };
    }
  });
}

/** scoreFolds plus the median predict time and, for MSTL, how often each period set was used. */
function scored(layout, fs) {
  const s = scoreFolds(ps, layout, fs);
  const ok = fs.filter((x) => !x.error);
  const periods = {};
  for (const x of ok) if (x.periods) periods[x.periods.join('+') || 'none'] = (periods[x.periods.join('+') || 'none'] ?? 0) + 1;
  const weights = ok.filter((x) => x.mstlWeight !== undefined).map((x) => x.mstlWeight);
  return {
    ...s,
    fitSecondsMedian: median(ok.map((x) => x.fitSeconds)),
    predictMsMedian: median(ok.map((x) => x.predictMs)),
    ...(Object.keys(periods).length > 0 ? { periods } : {}),
    ...(weights.length > 0 ? { mstlWeightMean: weights.reduce((a, b) => a + b, 0) / weights.length, mstlKeptFolds: weights.filter((w) => w > 0).length } : {}),
  };
}

const mstlOptions = (layout) => ({ seasonality: [DAY_MS, WEEK_MS], horizonSteps: layout.horizonSteps });
const periodsOf = (forecaster) => ({ periods: forecaster.describe().periodsSteps });
const mstlWeightOf = (forecaster) => {
  const d = forecaster.describe();
  const m = (d.members ?? d.scores ?? []).find?.((x) => x.name === 'MSTL');
  return m ? { mstlWeight: m.weight ?? 0 } : {};
};

async function benchTrace(file) {
  const started = performance.now();
  const points = await ps.loadTrace(file);
  const layout = layoutFolds(ps, points, settings);
  const models = {};
  const time = (name, run) => {
    const t0 = performance.now();
    models[name] = run();
    models[name].wallSeconds = ms(t0) / 1000;
  };
  // As prescaleForecasts() of reference_models.mjs (what bench/references.mjs scores), with predict timed too.
  const registry = (name) => () => ps.createForecaster(name, { seasonality: 'Auto', horizonSteps: layout.horizonSteps });
  time(M.hw, () => scored(layout, forecasts(layout, registry('HoltWinters'))));
  time(M.sn, () => scored(layout, forecasts(layout, registry('SeasonalNaive'))));
  time(M.mstl, () => scored(layout, forecasts(layout, () => new MstlForecaster(mstlOptions(layout)), layout.historySteps, periodsOf)));
  if (settings.weekly) {
    const weeklySteps = Math.ceil(settings.weeklyHistoryMs / layout.stepMs);
    time(M.mstlWeekly, () => scored(layout, forecasts(layout, () => new MstlForecaster(mstlOptions(layout)), weeklySteps, periodsOf)));
  }
  if (settings.ensemble) {
    const member = (name) => ({ name, make: () => ps.createForecaster(name, { seasonality: 'Auto', horizonSteps: layout.horizonSteps }), refitAtOrigin: true });
    const base = STAT_MEMBERS.map(member);
    const withMstl = [...base, { name: 'MSTL', make: () => new MstlForecaster(mstlOptions(layout)), refitAtOrigin: true }];
    time(M.ens, () => scored(layout, forecasts(layout, () => new EnsembleForecaster({ members: base, horizonSteps: layout.horizonSteps }))));
    time(M.ensMstl, () => scored(layout, forecasts(layout, () => new EnsembleForecaster({ members: withMstl, horizonSteps: layout.horizonSteps }), layout.historySteps, mstlWeightOf)));
  }
  return {
    trace: basename(file),
    class: classOf(basename(file)),
    stepMs: layout.stepMs,
    length: layout.series.values.length,
    horizonSteps: layout.horizonSteps,
    historySteps: layout.historySteps,
    origins: layout.folds.map((x) => x.origin),
    warmupNote: layout.warmupNote,
    models,
    seconds: ms(started) / 1000,
  };
}

const ratio = (a, b) => (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
const maseOf = (r, m) => r.models[m]?.mase ?? null;

function winLoss(runs, a, b) {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  const rs = [];
  for (const r of runs) {
    const x = ratio(maseOf(r, a), maseOf(r, b));
    if (x === null) continue;
    rs.push(x);
    if (x < 0.995) wins++;
    else if (x > 1.005) losses++;
    else ties++;
  }
  return { wins, losses, ties, medianRatio: median(rs), geoMeanRatio: rs.length ? Math.exp(rs.reduce((s, x) => s + Math.log(x), 0) / rs.length) : null };
}

function markdown(res) {
  const { runs, columns } = res;
  const L = ['## MSTL (augurs) in prescale: as a model and as an Ensemble member (issue 15)', ''];
  L.push(`Command: \`${res.command}\` (wall ${Math.round(res.wallSeconds)} s for the traces run in this invocation, traces one after another in one process; ${res.machine}; \`nproc\` ${res.nproc}; load average 1/5/15 min ${res.loadStart} at the start, ${res.loadEnd} at the end; the machine shared with other work, so times are indicative). prescale from a dist built with \`tsc -p tsconfig.build.json --outDir ${res.distDir}\` from the working tree (uncommitted src/forecast/mstl.ts, augurs.ts); @bsull/augurs ${res.augurs}.`);
  L.push('');
  L.push(`Folds: those of bench/references.mjs (\`layoutFolds\`/\`scoreFolds\` of bench/reference_models.mjs, i.e. \`prescale backtest\`'s): ${res.settings.folds} origins per trace, horizon 30 min, every model fitted afresh at each origin on the last 7 days, first origin after a 7-day warm-up; MASE against the seasonal-naive scale of the 7-day history, mean over folds; coverage of q0.9.`);
  L.push('');
  L.push(`- ${M.hw}, ${M.sn}: \`createForecaster(name, { seasonality: 'Auto', horizonSteps })\`.`);
  L.push(`- ${M.mstl}: \`new MstlForecaster({ seasonality: [1 day, 1 week], horizonSteps })\` on the same 7-day history. A period is used only where the history covers it twice, so here it is the daily period alone (or none, for a step over 12 h): the like-for-like comparison.`);
  L.push(`- ${M.mstlWeekly}: the same forecaster given up to 21 days (longer than the other models' 7): daily + weekly on every fold whose history reaches 14 days, the daily one alone before that. Scored on the same folds and the same (7-day) MASE scale.`);
  L.push(`- ${M.ens} and ${M.ensMstl}: the product's \`EnsembleForecaster\` (default 4 validation folds, members over 1.5× the best validation MASE dropped, inverse-MASE weights, every member refitted at the origin as registry.ts does for statistical members) with the statistical members of \`ENSEMBLE_MEMBERS\`, without and with MSTL (day+week, 7-day history). The LSTM member is left out: at ~45 s per trace for 8 folds (bench/combination.mjs) it would not fit this run's time, so these rows say whether MSTL helps the statistical part of the blend, not the shipped four-member Ensemble.`);
  L.push('');
  L.push('### Median MASE over traces (lower is better; best of each row in bold)');
  L.push('');
  L.push(`| traces | ${columns.join(' | ')} |`);
  L.push(`|---|${columns.map(() => '---').join('|')}|`);
  const groups = [['all', runs], ...[...Object.keys(TRACE_CLASSES), 'other'].map((c) => [c, runs.filter((r) => r.class === c)])];
  for (const [label, rs] of groups) {
    if (rs.length === 0) continue;
    const vals = columns.map((c) => median(rs.map((r) => maseOf(r, c))));
    const best = Math.min(...vals.filter((x) => x !== null));
    L.push(`| ${label} (${rs.length}) | ${vals.map((x) => (x === best ? `**${f(x)}**` : f(x))).join(' | ')} |`);
  }
  L.push(`| coverage of q0.9, median over all (ideal 0.9) | ${columns.map((c) => f(median(runs.map((r) => r.models[c]?.coverage ?? null)))).join(' | ')} |`);
  L.push(`| failed folds, total | ${columns.map((c) => runs.reduce((n, r) => n + (r.models[c]?.failures ?? 0), 0)).join(' | ')} |`);
  L.push('');
  L.push('### Wins and losses per trace (ratio of MASE; a win is a ratio below 0.995, a loss above 1.005)');
  L.push('');
  L.push('| comparison | wins | losses | ties | median ratio | geometric mean ratio |');
  L.push('|---|---|---|---|---|---|');
  for (const [a, b] of res.comparisons) {
    const w = winLoss(runs, a, b);
    L.push(`| ${a} vs ${b} | ${w.wins} | ${w.losses} | ${w.ties} | ${f(w.medianRatio)} | ${f(w.geoMeanRatio)} |`);
  }
  L.push('');
  for (const [label, rs] of groups.slice(1)) {
    if (rs.length === 0) continue;
    const parts = res.comparisons.map(([a, b]) => {
      const w = winLoss(rs, a, b);
      return `${a} vs ${b} ${w.wins}/${w.losses}/${w.ties} (median ratio ${f(w.medianRatio)})`;
    });
    L.push(`- ${label}: ${parts.join('; ')}.`);
  }
  L.push('');
  L.push('### Per trace: MASE (best in bold), MSTL / HoltWinters, Ensemble+MSTL / Ensemble');
  L.push('');
  L.push(`| trace | class | step | ${columns.join(' | ')} | MSTL / HW | MSTL 21d / HW | Ens+MSTL / Ens | MSTL weight in Ens (mean) |`);
  L.push(`|---|---|---|${columns.map(() => '---').join('|')}|---|---|---|---|`);
  for (const r of runs) {
    const vals = columns.map((c) => maseOf(r, c));
    const best = Math.min(...vals.filter((x) => x !== null));
    L.push(
      `| ${r.trace.replace(/\.csv$/, '')} | ${r.class} | ${r.stepMs / 60_000}m | ${vals.map((x) => (x === best ? `**${f(x)}**` : f(x))).join(' | ')} | ${f(ratio(maseOf(r, M.mstl), maseOf(r, M.hw)))} | ${f(ratio(maseOf(r, M.mstlWeekly), maseOf(r, M.hw)))} | ${f(ratio(maseOf(r, M.ensMstl), maseOf(r, M.ens)))} | ${f(r.models[M.ensMstl]?.mstlWeightMean ?? null, 2)} |`,
    );
  }
  L.push('');
  L.push('### Cost per fold (this machine, shared; milliseconds)');
  L.push('');
  L.push('Median over traces of each trace\'s median fit time per fold, and of its predict time; "wall per trace" is the whole 24-fold run of the model on a trace (median over traces).');
  L.push('');
  L.push('| model | fit ms (median) | fit ms (max over traces) | predict ms (median) | wall s per trace (median) |');
  L.push('|---|---|---|---|---|');
  for (const c of columns) {
    const fit = runs.map((r) => (r.models[c]?.fitSecondsMedian ?? null) === null ? null : r.models[c].fitSecondsMedian * 1000);
    L.push(`| ${c} | ${f(median(fit))} | ${f(Math.max(...fit.filter((x) => x !== null)))} | ${f(median(runs.map((r) => r.models[c]?.predictMsMedian ?? null)), 2)} | ${f(median(runs.map((r) => r.models[c]?.wallSeconds ?? null)))} |`);
  }
  L.push('');
  const weeklyUse = runs.map((r) => r.models[M.mstlWeekly]?.periods).filter(Boolean);
  if (weeklyUse.length > 0) {
    const folds = weeklyUse.reduce((n, p) => n + Object.entries(p).filter(([k]) => k.includes('+')).reduce((s, [, v]) => s + v, 0), 0);
    const all = weeklyUse.reduce((n, p) => n + Object.values(p).reduce((s, v) => s + v, 0), 0);
    L.push(`Periods: with the 21-day history the weekly period was used on ${folds} of ${all} folds (the rest: too little history before the origin for two weeks).`);
  }
  const notes = [];
  for (const r of runs) {
    const parts = [];
    if (r.warmupNote) parts.push(r.warmupNote);
    for (const c of columns) if (r.models[c]?.failures > 0) parts.push(`${c} failed on ${r.models[c].failures} folds (${r.models[c].lastError})`);
    if (parts.length > 0) notes.push(`- ${r.trace}: ${parts.join('; ')}.`);
  }
  for (const e of res.errors ?? []) notes.push(`- ${e.trace}: not run (${e.error}).`);
  if (notes.length > 0) L.push('', 'Notes:', '', ...notes);
  L.push('');
  return L.join('\n');
}

async function augursVersion() {
  return JSON.parse(await readFile(join(root, 'node_modules/@bsull/augurs/package.json'), 'utf8')).version;
}

async function main() {
  await mkdir(cacheDir, { recursive: true });
  const files = subset.length > 0 ? subset : (await readdir(traceDir)).filter((n) => n.endsWith('.csv')).sort();
  const started = Date.now();
  const loadStart = loadavg().map((x) => x.toFixed(2)).join(' / ');
  const errors = [];
  if (!hasFlag('--report-only')) {
    for (const name of files) {
      const cached = join(cacheDir, basename(name, '.csv') + '.json');
      if (existsSync(cached)) continue;
      try {
        const r = await benchTrace(join(traceDir, basename(name)));
        await writeFile(cached, JSON.stringify(r));
        process.stderr.write(`${r.trace} (${r.seconds.toFixed(0)} s, load ${loadavg()[0].toFixed(2)}): ${Object.entries(r.models).map(([m, s]) => `${m} ${f(s.mase)}`).join(', ')}\n`);
      } catch (e) {
        errors.push({ trace: name, error: errorText(e).slice(0, 300) });
        process.stderr.write(`${name}: ${errorText(e)}\n`);
      }
    }
  }
  const runs = [];
  for (const name of files) {
    const cached = join(cacheDir, basename(name, '.csv') + '.json');
    if (existsSync(cached)) runs.push(JSON.parse(await readFile(cached, 'utf8')));
  }
  const columns = [M.hw, M.sn, M.mstl, ...(settings.weekly ? [M.mstlWeekly] : []), ...(settings.ensemble ? [M.ens, M.ensMstl] : [])];
  const comparisons = [
    [M.mstl, M.hw],
    [M.mstl, M.sn],
    ...(settings.weekly ? [[M.mstlWeekly, M.hw], [M.mstlWeekly, M.mstl]] : []),
    ...(settings.ensemble ? [[M.ensMstl, M.ens], [M.ens, M.hw], [M.ensMstl, M.hw]] : []),
  ];
  const res = {
    command: `node bench/mstl-bench.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    nproc: cpus().length,
    loadStart,
    loadEnd: loadavg().map((x) => x.toFixed(2)).join(' / '),
    wallSeconds: (Date.now() - started) / 1000,
    distDir,
    augurs: await augursVersion(),
    settings,
    columns,
    comparisons,
    classes: Object.fromEntries(Object.entries(TRACE_CLASSES).map(([c, p]) => [c, p.map((x) => x.source)])),
    summary: Object.fromEntries(columns.map((c) => [c, { medianMase: median(runs.map((r) => maseOf(r, c))), medianCoverage: median(runs.map((r) => r.models[c]?.coverage ?? null)) }])),
    winLoss: comparisons.map(([a, b]) => ({ model: a, against: b, ...winLoss(runs, a, b) })),
    runs,
    errors,
  };
  await mkdir(dirname(outBase), { recursive: true });
  await writeFile(`${outBase}.json`, JSON.stringify(res, null, 1) + '\n');
  await writeFile(`${outBase}.md`, markdown(res));
  process.stderr.write(`wrote ${outBase}.md (${runs.length} traces)\n`);
}

await main();
