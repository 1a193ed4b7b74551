#!/usr/bin/env node
// Issue 15: prescale's models against two reference libraries on the same backtest folds of every
// dev trace: statsmodels' damped additive Holt-Winters (Debian's python3-statsmodels, run by
// bench/reference_statsmodels.py) and augurs' MSTL + AutoETS (@bsull/augurs, wasm, in process).
// Folds, MASE and coverage are those of `prescale backtest` (bench/reference_models.mjs).
// Traces run one after another in this process; statsmodels runs as one child per trace.
// Writes bench/results/references.json and bench/results/references.md.
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/x/dist   (or npm run build and use dist/)
//   node bench/references.mjs [--dist /tmp/x/dist] [--models SeasonalNaive,HoltWinters,Linear]
//        [--traces a.csv,b.csv] [--trace-dir DIR] [--folds 24] [--horizon-minutes 30]
//        [--history-days 7] [--warmup-days 7] [--simulations 1000] [--weekly [--weekly-history-days 21]]
//        [--skip statsmodels,augurs] [--out references] [--dist-from TEXT] [--self-check] [--report-only]
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { flag, fmt as f, hasFlag, median, resultsDir, root } from './lib.mjs';
import {
  DAY_MS,
  TRACE_CLASSES,
  assertSameFolds,
  augursForecasts,
  centralLevelFor,
  classOf,
  initAugurs,
  interpolateGaps,
  layoutFolds,
  loadPrescale,
  prescaleForecasts,
  runStatsmodels,
  scoreFolds,
  selectTensorflowBackend,
  statsmodelsJob,
  usesTensorflow,
  WEEK_MS,
} from './reference_models.mjs';

const QUANTILE = 0.9;
const STATSMODELS = 'statsmodels-HW';
const AUGURS = 'augurs-MSTL';
const AUGURS_WEEKLY = 'augurs-MSTL-weekly';
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(root, 'bench', 'reference_statsmodels.py');

const distDir = resolve(flag('--dist', join(root, 'dist')));
const traceDir = resolve(root, flag('--trace-dir', '../shared/data/traces/dev'));
const subset = flag('--traces', '').split(',').filter(Boolean);
const models = flag('--models', 'SeasonalNaive,HoltWinters,Linear').split(',').map((s) => s.trim()).filter(Boolean);
const positive = (name, fallback) => {
  const x = Number(flag(name, fallback));
  if (!(x > 0 && Number.isFinite(x))) throw new Error(`${name} must be a positive number`);
  return x;
};
const settings = {
  folds: Math.round(positive('--folds', '24')),
  horizonMs: positive('--horizon-minutes', '30') * 60_000,
  historyMs: positive('--history-days', '7') * DAY_MS,
  warmupMs: positive('--warmup-days', '7') * DAY_MS,
  quantile: QUANTILE,
  simulations: Number(flag('--simulations', '1000')),
  weekly: hasFlag('--weekly'),
  weeklyHistoryMs: positive('--weekly-history-days', '21') * DAY_MS,
};
if (!(Number.isInteger(settings.simulations) && settings.simulations >= 0 && settings.simulations <= 10_000)) throw new Error('--simulations must be a whole number from 0 to 10000');
const skip = new Set(flag('--skip', '').split(',').filter(Boolean));
/** How the dist was built, for the record (e.g. "git archive ecce0cf, tsc"); default: the tree's HEAD at the start. */
const distFrom = flag('--dist-from', null);
const outName = flag('--out', subset.length > 0 ? 'references-subset' : 'references');

const machine = () => `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');

/** HEAD of the working tree, and whether src/ has uncommitted changes (what a dist built from the tree holds). */
async function sourceRevision() {
  try {
    const git = (...args) => promisify(execFile)('git', ['-C', root, ...args]).then((r) => r.stdout.trim());
    const [head, status] = await Promise.all([git('rev-parse', '--short', 'HEAD'), git('status', '--porcelain', '--', 'src')]);
    return `${head}${status ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function augursVersion() {
  const pkg = JSON.parse(await readFile(join(root, 'node_modules/@bsull/augurs/package.json'), 'utf8'));
  return pkg.version;
}

/** Every model on one trace's folds: the layout, notes, and { model name: score }. */
async function benchTrace(ps, file) {
  const started = performance.now();
  const points = await ps.loadTrace(file);
  const layout = layoutFolds(ps, points, settings);
  const trace = basename(file);
  const notes = [];
  if (layout.warmupNote) notes.push(layout.warmupNote);
  if (layout.gaps.missingSteps > 0) notes.push(`${layout.gaps.missingSteps} missing steps in ${layout.gaps.gapCount} gaps`);
  const scores = {};
  for (const name of models) scores[name] = scoreFolds(ps, layout, prescaleForecasts(ps, layout, name, QUANTILE));
  if (!skip.has('statsmodels')) {
    try {
      const answer = await runStatsmodels(statsmodelsJob(layout, { trace, quantile: QUANTILE, simulations: settings.simulations }), { python: PYTHON, script: SCRIPT });
      assertSameFolds(layout, answer, ps);
      const ok = answer.folds.filter((a) => !a.error);
      scores[STATSMODELS] = {
        ...scoreFolds(ps, layout, answer.folds),
        seasonalFallbacks: ok.filter((a) => !a.seasonal).length,
        notConverged: ok.filter((a) => a.converged === false).length,
        refitsKept: ok.filter((a) => a.refitKept).length,
        fitWarnings: ok.reduce((n, a) => n + (a.warnings ?? 0), 0),
        warningKinds: [...new Set(ok.flatMap((a) => (Array.isArray(a.warningKinds) ? a.warningKinds : [])))].slice(0, 5),
        statsmodels: answer.statsmodels,
      };
    } catch (e) {
      scores[STATSMODELS] = { mase: null, coverage: null, folds: 0, failures: layout.folds.length, fitSeconds: null, lastError: String(e.message ?? e).slice(0, 300) };
    }
  }
  if (!skip.has('augurs')) {
    const daily = augursForecasts(ps, layout, { periods: [layout.daySteps], quantile: QUANTILE });
    scores[AUGURS] = { ...scoreFolds(ps, layout, daily), seasonalFallbacks: daily.filter((x) => x.fallback).length };
    if (settings.weekly) {
      const weekSteps = Math.round(WEEK_MS / layout.stepMs);
      const weekly = augursForecasts(ps, layout, { periods: [layout.daySteps, weekSteps], quantile: QUANTILE, historySteps: Math.ceil(settings.weeklyHistoryMs / layout.stepMs) });
      scores[AUGURS_WEEKLY] = { ...scoreFolds(ps, layout, weekly), weeklyFallbacks: weekly.filter((x) => x.fallback).length };
    }
  }
  return {
    trace,
    class: classOf(trace),
    stepMs: layout.stepMs,
    length: layout.series.values.length,
    horizonSteps: layout.horizonSteps,
    historySteps: layout.historySteps,
    warmupSteps: layout.warmupSteps,
    origins: layout.folds.map((x) => x.origin),
    notes,
    models: scores,
    seconds: (performance.now() - started) / 1000,
  };
}

const mases = (r, names) => names.map((n) => r.models[n]?.mase ?? null);
const minOf = (xs) => {
  const finite = xs.filter((x) => x !== null && Number.isFinite(x));
  return finite.length > 0 ? Math.min(...finite) : null;
};
const ratio = (a, b) => (a !== null && b !== null && b > 0 ? a / b : null);

/** Per trace: prescale HoltWinters / statsmodels HW, and best of prescale / best reference. */
function ratios(r) {
  const refs = [STATSMODELS, AUGURS].filter((n) => r.models[n]);
  return {
    hwOverStatsmodels: ratio(r.models.HoltWinters?.mase ?? null, r.models[STATSMODELS]?.mase ?? null),
    bestPrescaleOverBestReference: ratio(minOf(mases(r, models)), minOf(mases(r, refs))),
  };
}

/** A markdown row with the lowest number in bold. */
function boldRow(label, values, digits = 3) {
  const best = minOf(values);
  return `| ${label} | ${values.map((x) => (x !== null && x === best ? `**${f(x, digits)}**` : f(x, digits))).join(' | ')} |`;
}

function markdown(results) {
  const { runs, columns } = results;
  const lines = ['## Reference libraries: prescale vs statsmodels and augurs (issue 15)', ''];
  lines.push(`Command: \`${results.command}\` (wall time ${Math.round(results.wallSeconds)} s, traces one after another; ${results.machine}; load average 1/5/15 min ${results.loadStart} at the start, ${results.loadEnd} at the end, the machine shared with other work). prescale models from a dist compiled with \`tsc -p tsconfig.build.json\` from ${results.versions.prescale}${results.versions.tensorflowBackend ? `, TensorFlow.js backend ${results.versions.tensorflowBackend}` : ''}; statsmodels ${results.versions.statsmodels ?? '—'} (Debian python3-statsmodels, /usr/bin/python3), @bsull/augurs ${results.versions.augurs}.`);
  lines.push('');
  const s = results.settings;
  lines.push(`Folds: the layout of \`prescale backtest\` (native step, \`resample\`, \`foldOrigins\`): ${s.folds} origins, horizon ${s.horizonMs / 60_000} min (ceil(30 min / step) steps), every model fitted afresh at each origin on at most the last ${s.historyMs / DAY_MS} days, first origin after a ${s.warmupMs / DAY_MS}-day warm-up. Every model is scored on the same folds with prescale's \`mase(actual, mean, seasonalNaiveScale(history, step))\` (the scale from the raw history, gaps skipped; a flat history has no scale and its fold is left out, for every model alike) and the coverage of the 0.9 quantile; both are means over the folds a model forecast.`);
  lines.push('');
  lines.push('- prescale models: `createForecaster(name, { seasonality: \'Auto\', horizonSteps })`; gaps stay NaN in the history, as in the backtest.');
  lines.push(`- ${STATSMODELS}: \`ExponentialSmoothing(trend='add', damped_trend=True, seasonal='add', seasonal_periods=<1 day in steps>).fit()\` (default initialisation and optimiser; where that fit reports no convergence, refitted with \`method='least_squares'\` and the fit with the lower in-sample SSE kept), without a season when the history is shorter than two days or a day is under 2 steps. Its 0.9 quantile: the 0.9 quantile of ${s.simulations} simulated paths with Gaussian errors (\`simulate(h, anchor='end', repetitions=${s.simulations}, error='add')\`).`);
  lines.push(`- ${AUGURS}: \`MSTL.ets([daySteps])\` (STL with a 1-day season, AutoETS on the rest), refitted at each origin; its intervals are central, so the 0.9 quantile is the upper bound of \`predict(h, ${centralLevelFor(QUANTILE).toFixed(1)})\` (checked by --self-check against the normal quantile ratio).${s.weekly ? ` ${AUGURS_WEEKLY}: \`MSTL.ets([daySteps, weekSteps])\` on up to ${s.weeklyHistoryMs / DAY_MS} days of history (longer than the other models'), dropping the weekly season while the history is under two weeks.` : ''}`);
  lines.push('- Missing values: statsmodels and augurs cannot take NaN; both get the history with gaps interpolated linearly and the edges held at the nearest value (prescale\'s `fillGaps(values, 0)`; the Python side does the same and the bench checks both saw the same folds, lengths, gap counts and interpolated sums on every trace).');
  lines.push('');
  lines.push('### Summary: median MASE over traces (lower is better; best of each row in bold)');
  lines.push('');
  lines.push(`| traces | ${columns.join(' | ')} |`);
  lines.push(`|---|${columns.map(() => '---').join('|')}|`);
  const groups = [['all', runs], ...[...Object.keys(TRACE_CLASSES), 'other'].map((c) => [c, runs.filter((r) => r.class === c)])];
  for (const [label, rs] of groups) {
    if (rs.length === 0) continue;
    lines.push(boldRow(`${label} (${rs.length})`, columns.map((c) => median(rs.map((r) => r.models[c]?.mase ?? null)))));
  }
  lines.push(`| coverage of q0.9, median over all (ideal 0.9) | ${columns.map((c) => f(median(runs.map((r) => r.models[c]?.coverage ?? null)))).join(' | ')} |`);
  lines.push('');
  const rt = runs.map((r) => r.ratios);
  const hw = rt.map((x) => x.hwOverStatsmodels).filter((x) => x !== null);
  const best = rt.map((x) => x.bestPrescaleOverBestReference).filter((x) => x !== null);
  if (hw.length > 0) lines.push(`prescale HoltWinters / ${STATSMODELS} MASE (below 1: prescale better): median **${f(median(hw))}** over ${hw.length} traces (prescale better on ${hw.filter((x) => x < 1).length}); per class: ${groupMedians(runs, rt, 'hwOverStatsmodels')}.`);
  if (best.length > 0) lines.push(`Best prescale model / best reference (min of ${STATSMODELS}, ${AUGURS}) MASE, per trace: median **${f(median(best))}** over ${best.length} traces (prescale better on ${best.filter((x) => x < 1).length}); per class: ${groupMedians(runs, rt, 'bestPrescaleOverBestReference')}.`);
  lines.push('');
  lines.push('### Per trace: MASE (best in bold)');
  lines.push('');
  lines.push(`| trace | class | ${columns.join(' | ')} | HW / statsmodels | best prescale / best reference | folds |`);
  lines.push(`|---|---|${columns.map(() => '---').join('|')}|---|---|---|`);
  runs.forEach((r, i) => {
    const row = boldRow(r.trace, mases(r, columns)).replace(/^\| [^|]+ \|/, `| ${r.trace} | ${r.class} |`);
    lines.push(`${row} ${f(rt[i].hwOverStatsmodels)} | ${f(rt[i].bestPrescaleOverBestReference)} | ${r.origins.length} |`);
  });
  lines.push('');
  lines.push('### Per trace: coverage of the 0.9 quantile (ideal 0.9)');
  lines.push('');
  lines.push(`| trace | ${columns.join(' | ')} |`);
  lines.push(`|---|${columns.map(() => '---').join('|')}|`);
  for (const r of runs) lines.push(`| ${r.trace} | ${columns.map((c) => f(r.models[c]?.coverage ?? null)).join(' | ')} |`);
  lines.push('');
  lines.push('### Fit time, failures and fallbacks');
  lines.push('');
  lines.push(`Median fit seconds per fold: ${columns.map((c) => `${c} ${f(median(runs.map((r) => r.models[c]?.fitSeconds ?? null)), 2)}`).join(', ')}.`);
  lines.push('');
  const remarks = [];
  for (const r of runs) {
    const parts = [...r.notes];
    for (const c of columns) {
      const m = r.models[c];
      if (!m) continue;
      if (m.failures > 0) parts.push(`${c} failed on ${m.failures} of ${m.failures + m.folds} folds (${m.lastError})`);
      if (m.seasonalFallbacks > 0) parts.push(`${c} ran without a season on ${m.seasonalFallbacks} folds`);
      if (m.weeklyFallbacks > 0) parts.push(`${c} had under two weeks of history (daily season only) on ${m.weeklyFallbacks} folds`);
      if (m.notConverged > 0) parts.push(`${c}: default fit did not converge on ${m.notConverged} folds, the least-squares refit kept on ${m.refitsKept}`);
      const onlyConvergence = (m.warningKinds ?? []).every((k) => k.startsWith('ConvergenceWarning')) && m.fitWarnings === m.notConverged;
      if (m.fitWarnings > 0 && !onlyConvergence) parts.push(`${c}: ${m.fitWarnings} warnings from fit or simulate (${(m.warningKinds ?? []).join('; ')})`);
    }
    if (parts.length > 0) remarks.push(`- ${r.trace}: ${parts.join('; ')}.`);
  }
  for (const e of results.errors) remarks.push(`- ${e.trace}: not run (${e.error}).`);
  lines.push(...(remarks.length > 0 ? remarks : ['None.']));
  lines.push('');
  lines.push(`Trace classes (bench/reference_models.mjs TRACE_CLASSES, from the dev traces' README): ${Object.entries(TRACE_CLASSES).map(([c, ps]) => `${c} = ${ps.map((p) => `\`${p.source}\``).join(', ')}`).join('; ')}; anything else is "other".`);
  return lines.join('\n') + '\n';
}

function groupMedians(runs, rt, key) {
  return [...Object.keys(TRACE_CLASSES), 'other']
    .map((c) => {
      const xs = runs.map((r, i) => (r.class === c ? rt[i][key] : null)).filter((x) => x !== null);
      return xs.length > 0 ? `${c} ${f(median(xs))} (${xs.length})` : null;
    })
    .filter(Boolean)
    .join(', ');
}

/**
 * Checks what the results rest on: the Python side's NaN handling, that statsmodels saw the folds the
 * JS side laid out (on a synthetic trace with gaps and on the first dev trace), and that augurs'
 * intervals are central (the level-0.8 half-width / level-0.9 half-width is z(0.9) / z(0.95)).
 */
async function selfCheck(ps) {
  await promisify(execFile)(PYTHON, [SCRIPT, '--self-test']);
  const step = 300_000;
  const t0 = Date.parse('2026-01-05T00:00:00Z');
  const points = [];
  for (let i = 0; i < 4 * 288; i++) {
    if ((i >= 700 && i < 706) || i % 97 === 13) continue; // a 30-minute gap and scattered missing steps
    points.push([t0 + i * step, 50 + 20 * Math.sin((2 * Math.PI * i) / 288) + (i % 7)]);
  }
  const synthetic = layoutFolds(ps, points, { ...settings, folds: 5 });
  if (!synthetic.warmupNote) throw new Error('a 4-day trace must get the cut warm-up');
  const checked = [['synthetic 4-day trace with gaps', synthetic]];
  const first = (await readdir(traceDir)).filter((n) => n.endsWith('.csv')).sort()[0];
  if (first) checked.push([first, layoutFolds(ps, await ps.loadTrace(join(traceDir, first)), { ...settings, folds: 4 })]);
  for (const [label, layout] of checked) {
    const expected = ps.foldOrigins(layout.series.values.length, { horizonSteps: layout.horizonSteps, warmupSteps: layout.warmupSteps, folds: layout.folds.length });
    if (JSON.stringify(expected) !== JSON.stringify(layout.folds.map((x) => x.origin))) throw new Error(`${label}: origins differ from foldOrigins`);
    for (const fold of layout.folds) {
      if (fold.history.length !== Math.min(layout.historySteps, fold.origin) || fold.actual.length !== layout.horizonSteps) throw new Error(`${label}: fold at ${fold.origin} has the wrong lengths`);
    }
    const answer = await runStatsmodels(statsmodelsJob(layout, { trace: label, quantile: QUANTILE, simulations: 50 }), { python: PYTHON, script: SCRIPT });
    assertSameFolds(layout, answer, ps);
    const failed = answer.folds.filter((a) => a.error);
    if (failed.length > 0) throw new Error(`${label}: statsmodels failed: ${failed[0].error}`);
    const gaps = layout.folds.reduce((n, x) => n + x.history.filter(Number.isNaN).length, 0);
    process.stderr.write(`self-check ${label}: ${layout.folds.length} folds, ${gaps} missing history steps, JS and statsmodels agree\n`);
  }
  const interpolated = interpolateGaps(ps, [NaN, 1, NaN, 3, NaN]);
  if (JSON.stringify(interpolated) !== '[1,1,2,3,3]') throw new Error(`JS interpolation gave ${interpolated}`);
  initAugurs();
  const { MSTL } = await import('@bsull/augurs/mstl');
  const y = Array.from({ length: 6 * 288 }, (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 13);
  const halfWidth = (level) => {
    const m = MSTL.ets([288]);
    try {
      m.fit(y);
      const p = m.predict(3, level);
      return p.intervals.upper[0] - p.point[0];
    } finally {
      m.free();
    }
  };
  const measured = halfWidth(0.8) / halfWidth(0.9);
  const central = 1.2815516 / 1.6448536;
  if (Math.abs(measured - central) > 0.01) throw new Error(`augurs interval widths ${measured.toFixed(4)} are not those of central intervals (${central.toFixed(4)})`);
  process.stderr.write(`self-check augurs: level-0.8 / level-0.9 half-width ${measured.toFixed(4)} (central intervals: ${central.toFixed(4)}), so predict(h, 0.8).upper is the 0.9 quantile\nself-check passed\n`);
}

async function main() {
  const ps = await loadPrescale(distDir);
  const unknown = models.filter((m) => !ps.isModelName(m));
  if (unknown.length > 0) throw new Error(`--models: ${unknown.join(', ')} not in the registry of ${distDir}`);
  if (hasFlag('--self-check')) return selfCheck(ps);
  if (hasFlag('--report-only')) {
    // Re-renders the markdown from the JSON of the last run (after a change to the report only).
    const outBase = outName.includes('/') ? resolve(outName) : join(resultsDir, outName);
    await writeFile(`${outBase}.md`, markdown(JSON.parse(await readFile(`${outBase}.json`, 'utf8'))));
    return;
  }
  const tensorflowBackend = usesTensorflow(models) ? await selectTensorflowBackend(distDir) : null;
  const files = subset.length > 0 ? subset : (await readdir(traceDir)).filter((n) => n.endsWith('.csv')).sort();
  const started = Date.now();
  const loadStart = load();
  const prescaleSource = distFrom ?? `the working tree at ${await sourceRevision()} (HEAD at the start of the run)`;
  const runs = [];
  const errors = [];
  for (const name of files) {
    try {
      const r = await benchTrace(ps, join(traceDir, basename(name)));
      runs.push(r);
      process.stderr.write(`${r.trace}: ${Object.entries(r.models).map(([m, s]) => `${m} ${f(s.mase)}`).join(', ')} (${r.seconds.toFixed(0)} s)\n`);
    } catch (e) {
      errors.push({ trace: name, error: String(e.message ?? e).slice(0, 300) });
      process.stderr.write(`${name}: ${e.message ?? e}\n`);
    }
  }
  const columns = [...models, ...(skip.has('statsmodels') ? [] : [STATSMODELS]), ...(skip.has('augurs') ? [] : [AUGURS, ...(settings.weekly ? [AUGURS_WEEKLY] : [])])];
  const versions = { statsmodels: runs.map((r) => r.models[STATSMODELS]?.statsmodels).find(Boolean) ?? null, augurs: await augursVersion(), prescale: prescaleSource, distDir, tensorflowBackend };
  const results = {
    command: `node bench/references.mjs ${process.argv.slice(2).map((a) => (/^[\w./,=:@-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ')}`.trim(),
    machine: machine(),
    loadStart,
    loadEnd: load(),
    wallSeconds: (Date.now() - started) / 1000,
    versions,
    settings,
    columns,
    prescaleModels: models,
    classes: Object.fromEntries(Object.entries(TRACE_CLASSES).map(([c, ps]) => [c, ps.map((p) => p.source)])),
    runs: runs.map((r) => ({ ...r, ratios: ratios(r) })),
    errors,
  };
  // --out is a name in bench/results, or a path (for trial runs outside the tree).
  const outBase = outName.includes('/') ? resolve(outName) : join(resultsDir, outName);
  await mkdir(dirname(outBase), { recursive: true });
  await writeFile(`${outBase}.json`, JSON.stringify(results, null, 1) + '\n');
  await writeFile(`${outBase}.md`, markdown(results));
  process.stderr.write(`wrote ${outBase}.md in ${results.wallSeconds.toFixed(0)} s\n`);
}

await main();
