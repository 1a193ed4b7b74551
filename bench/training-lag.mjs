#!/usr/bin/env node
// How long the operator's main thread stalls while a model trains: the same LSTM and Ensemble
// trainings (7 days of 1-minute data) run inline, as models were trained before worker threads,
// and in the operator's training worker, side by side in one run. Event-loop delay is sampled
// every 10 ms with perf_hooks. Writes bench/results/training-lag.json and training-lag.md.
//
//   npm run build && node bench/training-lag.mjs [--raw ../shared/data/traces/raw]
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { flag, fmt, resultsDir, root } from './lib.mjs';
import { alibabaWeek } from './lstm-cost/trace.mjs';

const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { selectBackend } = await dist('forecast/tf/backend.js');
const { trainModel } = await dist('controller/training/train-model.js');
const { WorkerPoolTrainer } = await dist('controller/training/worker-pool.js');

const rawDir = resolve(root, flag('--raw', '../shared/data/traces/raw'));
const backend = (await selectBackend()).name;
const { series } = await alibabaWeek(rawDir, 'cpu_util_percent');
const request = (model) => ({ model, options: { seasonality: 'Auto', horizonSteps: 30 }, series, quantile: 0.9 });

/** Runs `train` while sampling the event loop; a timer every 100 ms stands in for reconciles. */
async function measure(train) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let ticks = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const reconciles = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 100);
  delay.enable();
  const started = performance.now();
  await train();
  const seconds = (performance.now() - started) / 1000;
  // Let the timers fire once more, so a stall that lasted until now is recorded too.
  await new Promise((r) => setTimeout(r, 150));
  delay.disable();
  clearInterval(reconciles);
  return { seconds, p99Ms: delay.percentile(99) / 1e6, maxMs: Math.max(delay.max / 1e6, longestGapMs - 100), timerTicks: ticks, expectedTicks: Math.floor((seconds * 1000 + 150) / 100) };
}

const rows = [];
const pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 600_000, script: pathToFileURL(join(root, 'dist/controller/training/worker.js')) });
await pool.train(request('Linear')); // start the worker outside the measurement
for (const model of ['LSTM', 'Ensemble']) {
  // Yield first so the inline run's own setTimeout can fire at all.
  const inline = await measure(() => new Promise((r) => setTimeout(() => r(trainModel(request(model))), 0)));
  const worker = await measure(() => pool.train(request(model)));
  rows.push({ model, inline, worker });
  process.stderr.write(`${model}: inline max lag ${inline.maxMs.toFixed(0)} ms, worker max lag ${worker.maxMs.toFixed(0)} ms\n`);
}
await pool.close();

const md = [
  '## Event-loop lag while a model trains',
  '',
  `Command: \`npm run build && node bench/training-lag.mjs\` (${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, TensorFlow.js backend ${backend}); 7 days of 1-minute data (Alibaba 2018 cluster CPU, see lstm-cost), horizon 30. A 100 ms timer stands in for reconciles.`,
  '',
  '| model | where | training s | event-loop delay p99 ms | longest stall ms | 100 ms timer fired / expected | longest stall / training time |',
  '|---|---|---|---|---|---|---|',
  ...rows.flatMap((r) =>
    ['inline', 'worker'].map((where) => {
      const m = r[where];
      return `| ${r.model} | ${where === 'inline' ? 'inline (before)' : 'training worker'} | ${fmt(m.seconds)} | ${fmt(m.p99Ms)} | ${fmt(m.maxMs)} | ${m.timerTicks} / ${m.expectedTicks} | ${fmt(m.maxMs / 1000 / m.seconds, 2)} |`;
    }),
  ),
  '',
];
await writeFile(join(resultsDir, 'training-lag.json'), JSON.stringify({ backend, rows }, null, 1));
await writeFile(join(resultsDir, 'training-lag.md'), md.join('\n'));
process.stderr.write('wrote bench/results/training-lag.md\n');
