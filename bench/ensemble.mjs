#!/usr/bin/env node
// Evidence for the Ensemble (LSTM + Holt-Winters + seasonal-naive + linear), in one run:
//   1. backtest over every dev trace: the Ensemble against each statistical model on the same folds;
//   2. simulate with --model ensemble on the chosen traces, against the Holt-Winters run of
//      bench/evaluate.mjs (bench/results/evaluate.json) on the same traces and settings;
//   3. cost: simulate and backtest with the Ensemble over a 21-day 1-minute slice of a trace.
// Writes bench/results/ensemble.json and bench/results/ensemble.md (merged into RESULTS.md by
// evaluate.mjs --report-only).
//
//   npm run build && node bench/ensemble.mjs [--jobs 2] [--folds 8] [--simulate-traces a,b,c] [--skip backtest,simulate,cost]
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { bestUnderRatio, capacityOf, flag, fmt as f, median, pool, prescale, resultsDir as outDir, root } from './lib.mjs';

const traceDir = resolve(root, flag('--traces', '../shared/data/traces/dev'));
const jobs = Number(flag('--jobs', String(Math.max(1, cpus().length))));
const folds = flag('--folds', '8');
const skip = new Set(flag('--skip', '').split(',').filter(Boolean));
/** Re-run only these backtest traces, keeping the other results of the last run. */
const onlyBacktest = flag('--only-backtest', '').split(',').filter(Boolean);
// Default subset: one trace per source and shape (daily web traffic, bursty, flat-ish, weekly).
const simulateTraces = flag(
  '--simulate-traces',
  'nab-elb-request-count-8c0756.csv,alibaba-2018-cluster-cpu.csv,azure-2017-vm-cpu.csv,nab-nyc-taxi.csv,nab-twitter-volume-goog.csv,nab-rds-cpu-utilization-e47b3b.csv',
).split(',');
const costTrace = flag('--cost-trace', 'bitbrains-2013-total-cpu.csv');
const STATISTICAL = ['holt-winters', 'seasonal-naive', 'linear'];
const DELAYS = ['2m', '10m'];






async function backtests(files, results) {
  const tasks = files.map((name) => async () => {
    try {
      const r = await prescale(['backtest', '--trace', join(traceDir, name), '--horizon', '30m', '--folds', folds, '--warmup', '3d', '--models', ['ensemble', ...STATISTICAL].join(',')]);
      results[name] = { models: r.json.models, seconds: r.seconds };
    } catch (err) {
      const lines = String(err.stderr || err.message).trim().split('\n');
      results[name] = { error: lines.pop(), stderr: lines.filter((l) => !l.startsWith('    at ')).slice(-12).join('\n') };
    }
    process.stderr.write(`backtest ${name}: ${results[name].seconds ? `${results[name].seconds.toFixed(0)} s` : results[name].error}\n`);
  });
  await pool(tasks, jobs);
}

async function simulations(results) {
  const tasks = [];
  for (const name of simulateTraces) {
    const file = join(traceDir, name);
    const capacity = await capacityOf(file);
    results[name] = { capacity };
    for (const delay of DELAYS) {
      tasks.push(async () => {
        try {
          const r = await prescale(['simulate', '--trace', file, '--capacity-per-replica', String(capacity), '--startup-delay', delay, '--metric-lag', '1m', '--model', 'ensemble', '--warmup', '3d', '--policies', 'prescale,hpa,oracle']);
          const activity = r.stderr.split('\n').find((l) => l.includes('prescale models:')) ?? '';
          results[name][delay] = { best: bestUnderRatio(r.json), seconds: r.seconds, activity: activity.replace(/^.*prescale models: /, '') };
        } catch (err) {
          results[name][delay] = { error: String(err.stderr || err.message).trim().split('\n').pop() };
        }
        process.stderr.write(`simulate ${name} ${delay}: ${JSON.stringify(results[name][delay]).slice(0, 200)}\n`);
      });
    }
  }
  await pool(tasks, jobs);
}

/** The last 21 days of a trace, as its own CSV. */
async function slice21Days(file) {
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  const rows = lines.slice(1);
  const end = Date.parse(rows.at(-1).split(',')[0]);
  const kept = rows.filter((l) => Date.parse(l.split(',')[0]) > end - 21 * 86_400_000);
  const dir = await mkdtemp(join(tmpdir(), 'prescale-ensemble-'));
  const out = join(dir, '21d.csv');
  await writeFile(out, [lines[0], ...kept].join('\n') + '\n');
  return { out, points: kept.length };
}

async function cost(results) {
  const { out, points } = await slice21Days(join(traceDir, costTrace));
  const capacity = await capacityOf(out);
  const sim = await prescale(['simulate', '--trace', out, '--capacity-per-replica', String(capacity), '--startup-delay', '2m', '--metric-lag', '1m', '--model', 'ensemble', '--warmup', '3d', '--policies', 'prescale,hpa,oracle']);
  const back = await prescale(['backtest', '--trace', out, '--horizon', '30m', '--folds', '24', '--warmup', '3d', '--models', 'ensemble']);
  results.cost = {
    trace: costTrace,
    sourcePoints: points,
    simulateSeconds: sim.seconds,
    simulateActivity: (sim.stderr.split('\n').find((l) => l.includes('prescale models:')) ?? '').replace(/^.*prescale models: /, ''),
    backtestSeconds: back.seconds,
    backtestEnsembleFitSeconds: back.json.models[0]?.fitSeconds,
  };
}

function markdown(results, wallSeconds) {
  const lines = ['## Ensemble (LSTM + Holt-Winters + seasonal-naive + linear)', ''];
  lines.push(`Command: \`npm run build && node bench/ensemble.mjs --folds ${folds}\` (wall time ${Math.round(wallSeconds)} s, ${jobs} jobs; ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}).`);
  lines.push('');
  const bt = results.backtest ?? {};
  const names = Object.keys(bt).sort();
  if (names.length > 0) {
    const ratios = [];
    const rows = [];
    for (const name of names) {
      const r = bt[name];
      if (!r.models) {
        rows.push(`| ${name} | ${r.error ?? '—'} | | | | | |`);
        continue;
      }
      const mase = (m) => r.models.find((x) => x.name === m)?.mase ?? null;
      const stat = STATISTICAL.map(mase);
      const best = Math.min(...stat.filter((x) => x !== null && Number.isFinite(x)));
      const ens = mase('ensemble');
      const ratio = Number.isFinite(best) && best > 0 && Number.isFinite(ens) ? ens / best : null;
      ratios.push(ratio);
      rows.push(`| ${name} | ${f(ens)} | ${stat.map((x) => f(x)).join(' | ')} | ${f(ratio)} | ${f(r.seconds, 2)} |`);
    }
    const valid = ratios.filter((x) => x !== null);
    lines.push(`### Backtest (horizon 30m, ${folds} folds, warm-up 3d, history 7d; every model on the same folds)`);
    lines.push('');
    lines.push(`Median of (Ensemble MASE / best statistical model's MASE) across ${valid.length} traces: **${f(median(valid))}** (target ≤ 0.85); worst trace ${f(Math.max(...valid))}; Ensemble better on ${valid.filter((x) => x < 1).length} of ${valid.length}.`);
    lines.push('');
    lines.push('| trace | ensemble | holt-winters | seasonal-naive | linear | ensemble / best | seconds |');
    lines.push('|---|---|---|---|---|---|---|');
    lines.push(...rows);
    lines.push('');
  }
  const sim = results.simulate ?? {};
  if (Object.keys(sim).length > 0) {
    let hw = [];
    try {
      hw = JSON.parse(results.hwEvaluate ?? '[]');
    } catch {}
    lines.push('### Simulate with --model ensemble (best underRatioAtEqualCost, lower is better)');
    lines.push('');
    lines.push('Same settings as evaluate.mjs (capacity = p95/10, metric lag 1m, warm-up 3d, quantiles 0.5..0.99 vs HPA targets 1..0.5); Holt-Winters from bench/results/evaluate.json.');
    lines.push('');
    lines.push('| trace | delay | ensemble | holt-winters | seconds | model activity |');
    lines.push('|---|---|---|---|---|---|');
    const med = { '2m': [], '10m': [] };
    const medHw = { '2m': [], '10m': [] };
    for (const [name, r] of Object.entries(sim)) {
      for (const delay of DELAYS) {
        const e = r[delay];
        const h = bestUnderRatio(hw.find((x) => x.trace === name)?.simulate?.[delay]);
        if (e?.best !== undefined) med[delay].push(e.best);
        if (h !== null) medHw[delay].push(h);
        lines.push(`| ${name} | ${delay} | ${e?.error ?? f(e?.best)} | ${f(h)} | ${f(e?.seconds, 2)} | ${e?.activity ?? ''} |`);
      }
    }
    lines.push('');
    lines.push(`Median over these ${Object.keys(sim).length} traces: 2m ensemble ${f(median(med['2m']))} vs holt-winters ${f(median(medHw['2m']))} (target ≤ 0.6); 10m ensemble ${f(median(med['10m']))} vs holt-winters ${f(median(medHw['10m']))} (target ≤ 0.4).`);
    lines.push('');
  }
  if (results.cost) {
    const c = results.cost;
    lines.push('### Cost over a 21-day trace');
    lines.push('');
    lines.push(`The last 21 days of ${c.trace} (${c.sourcePoints} source points, interpolated to 1 minute by the commands): simulate --model ensemble ${f(c.simulateSeconds, 3)} s (${c.simulateActivity}); backtest --models ensemble with 24 folds ${f(c.backtestSeconds, 3)} s (${f(c.backtestEnsembleFitSeconds, 2)} s per Ensemble fit). Target: each within 600 s.`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  await mkdir(outDir, { recursive: true });
  const jsonPath = join(outDir, 'ensemble.json');
  const results = JSON.parse(await readFile(jsonPath, 'utf8').catch(() => '{}'));
  results.hwEvaluate = await readFile(join(outDir, 'evaluate.json'), 'utf8').catch(() => '[]');
  const started = Date.now();
  if (!skip.has('backtest')) {
    const files = onlyBacktest.length > 0 ? onlyBacktest : (await readdir(traceDir)).filter((n) => n.endsWith('.csv')).sort();
    if (onlyBacktest.length === 0 || !results.backtest) results.backtest = {};
    await backtests(files, results.backtest);
  }
  if (!skip.has('simulate')) {
    results.simulate = {};
    await simulations(results.simulate);
  }
  if (!skip.has('cost')) await cost(results);
  const wall = (Date.now() - started) / 1000;
  const { hwEvaluate, ...kept } = results;
  await writeFile(jsonPath, JSON.stringify(kept, null, 1));
  await writeFile(join(outDir, 'ensemble.md'), markdown(results, wall) + '\n');
  process.stderr.write(`wrote bench/results/ensemble.md in ${wall.toFixed(0)} s\n`);
}

await main();
