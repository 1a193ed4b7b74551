#!/usr/bin/env node
// The LSTM's accuracy in two or more builds on the same folds of every dev trace: each build's own
// CLI runs `backtest --models lstm` (rolling origin, the same fold layout in every build), one
// process at a time, builds alternating trace by trace. Writes the JSON to --out; bench/lstm-cost.mjs
// --accuracy-json puts it in bench/results/lstm-cost.md and .json.
//
//   node bench/lstm-cost/accuracy.mjs --compare old=/tmp/lstm-old/dist,new=/tmp/lstm-new/dist --out /tmp/lstm-accuracy.json
//        [--traces ../shared/data/traces/dev] [--folds 8] [--warmup 3d] [--horizon 30m]
import { readdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { flag, root, run } from '../lib.mjs';

const traceDir = resolve(root, flag('--traces', '../shared/data/traces/dev'));
const folds = flag('--folds', '8');
const warmup = flag('--warmup', '3d');
const horizon = flag('--horizon', '30m');
const out = flag('--out', '');
const builds = flag('--compare', '').split(',').filter(Boolean).map((pair) => ({ label: pair.slice(0, pair.indexOf('=')), dist: resolve(root, pair.slice(pair.indexOf('=') + 1)) }));
if (builds.length < 2 || !out) throw new Error('usage: accuracy.mjs --compare a=DIR,b=DIR --out FILE');

/** One backtest; a failed run is tried once more (on a shared machine, another job can swap node_modules under it). */
async function backtest(build, file) {
  const first = await backtestOnce(build, file);
  return first.error ? { ...(await backtestOnce(build, file)), firstError: first.error } : first;
}

async function backtestOnce(build, file) {
  const argv = [join(build.dist, 'cli/main.js'), 'backtest', '--trace', file, '--horizon', horizon, '--folds', folds, '--warmup', warmup, '--models', 'lstm', '--json'];
  const started = process.hrtime.bigint();
  try {
    const { stdout } = await run('node', argv, { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60_000 });
    const model = JSON.parse(stdout).models[0];
    return { mase: model.mase, smape: model.smape, coverage: model.coverage, fitSeconds: model.fitSeconds, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (error) {
    return { error: String(error.stderr || error.message).trim().split('\n').pop() };
  }
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const started = Date.now();
const machine = { cores: cpus().length, node: process.version, loadAverageBefore: loadavg() };
const files = (await readdir(traceDir)).filter((name) => name.endsWith('.csv')).sort();
const traces = [];
for (const name of files) {
  const row = { trace: name, builds: {} };
  for (const build of builds) row.builds[build.label] = await backtest(build, join(traceDir, name));
  const [base, ...others] = builds.map((b) => row.builds[b.label]);
  row.ratios = Object.fromEntries(others.map((r, k) => [builds[k + 1].label, Number.isFinite(r.mase) && Number.isFinite(base.mase) && base.mase > 0 ? r.mase / base.mase : null]));
  traces.push(row);
  process.stderr.write(`${name}: ${builds.map((b) => `${b.label} ${row.builds[b.label].mase?.toFixed(4) ?? row.builds[b.label].error}`).join(', ')}\n`);
}
machine.loadAverageAfter = loadavg();
const summary = Object.fromEntries(
  builds.slice(1).map((b) => {
    const ratios = traces.map((t) => t.ratios[b.label]).filter(Number.isFinite);
    return [
      b.label,
      {
        traces: ratios.length,
        medianRatio: median(ratios),
        geometricMeanRatio: Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length),
        worstRatio: Math.max(...ratios),
        bestRatio: Math.min(...ratios),
        better: ratios.filter((r) => r < 1 - 1e-9).length,
        worse: ratios.filter((r) => r > 1 + 1e-9).length,
        medianMase: median(traces.map((t) => t.builds[b.label].mase)),
        baselineMedianMase: median(traces.map((t) => t.builds[builds[0].label].mase)),
        medianFitSeconds: median(traces.map((t) => t.builds[b.label].fitSeconds)),
        baselineMedianFitSeconds: median(traces.map((t) => t.builds[builds[0].label].fitSeconds)),
      },
    ];
  }),
);
const result = {
  generatedAt: new Date().toISOString(),
  command: ['node bench/lstm-cost/accuracy.mjs', ...process.argv.slice(2)].join(' '),
  wallSeconds: (Date.now() - started) / 1000,
  machine,
  options: { traceDir, folds: Number(folds), warmup, horizon, history: '7d (the CLI default)', models: 'lstm' },
  builds,
  traces,
  summary,
};
await writeFile(resolve(out), JSON.stringify(result, null, 1));
process.stderr.write(`wrote ${out} in ${result.wallSeconds.toFixed(0)} s: ${JSON.stringify(summary)}\n`);
