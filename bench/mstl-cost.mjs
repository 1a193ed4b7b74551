#!/usr/bin/env node
// Issue 15: what one MstlForecaster fit costs at the history sizes the operator can hand it (up to
// its cap of 28 days / 40,320 points), against HoltWinters on the same series: fit and predict time,
// and the wasm linear memory augurs keeps afterwards (it never shrinks). Synthetic daily + weekly
// series with noise, so every period is used. One process, sizes one after another.
//
//   node bench/mstl-cost.mjs [--dist /tmp/mstl-build/dist] [--repeats 2]
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, fmt } from './lib.mjs';

const dist = resolve(flag('--dist', '/tmp/mstl-build/dist'));
const repeats = Number(flag('--repeats', '2'));
const imp = (p) => import(pathToFileURL(join(dist, p)).href);
const { MstlForecaster } = await imp('forecast/mstl.js');
const { HoltWintersForecaster } = await imp('forecast/holtWinters.js');
const { loadAugurs } = await imp('forecast/augurs.js');

const MIN = 60_000;
const DAY = 1440 * MIN;
const WEEK = 7 * DAY;

function series(stepMs, days) {
  const n = Math.round((days * DAY) / stepMs);
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 10;
  const values = Array.from({ length: n }, (_, i) => {
    const t = i * stepMs;
    const weekend = Math.floor(t / DAY) % 7 >= 5 ? -40 : 0;
    return 200 + weekend + 50 * Math.sin((2 * Math.PI * t) / DAY) + noise();
  });
  return { start: 0, stepMs, values };
}

function time(make, s, horizonSteps) {
  const fits = [];
  const predicts = [];
  let describe;
  for (let r = 0; r < repeats; r++) {
    const f = make();
    let t0 = performance.now();
    f.fit(s);
    fits.push(performance.now() - t0);
    t0 = performance.now();
    f.predict(horizonSteps, [0.1, 0.5, 0.9]);
    predicts.push(performance.now() - t0);
    describe = f.describe();
  }
  return { fitMs: Math.min(...fits), predictMs: Math.min(...predicts), describe };
}

const augurs = loadAugurs();
const rows = [];
const loadStart = loadavg().map((x) => x.toFixed(2)).join(' / ');
for (const [stepMin, days] of [[5, 7], [5, 21], [5, 28], [1, 7], [1, 14], [1, 28]]) {
  const stepMs = stepMin * MIN;
  const s = series(stepMs, days);
  const horizonSteps = Math.ceil((30 * MIN) / stepMs);
  const mstl = time(() => new MstlForecaster({ seasonality: [DAY, WEEK], horizonSteps }), s, horizonSteps);
  const hw = time(() => new HoltWintersForecaster({ seasonality: 'Auto' }), s, horizonSteps);
  const row = {
    step: `${stepMin}m`,
    days,
    points: s.values.length,
    periods: mstl.describe.periodsSteps,
    fitPoints: mstl.describe.fitPoints,
    mstlFitMs: mstl.fitMs,
    mstlPredictMs: mstl.predictMs,
    hwFitMs: hw.fitMs,
    hwPredictMs: hw.predictMs,
    wasmMiB: augurs.memoryBytes() / 2 ** 20,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
const loadEnd = loadavg().map((x) => x.toFixed(2)).join(' / ');
const lines = [
  `Command: \`node bench/mstl-cost.mjs --dist ${dist} --repeats ${repeats}\` (best of ${repeats}; load average ${loadStart} at the start, ${loadEnd} at the end).`,
  '',
  '| step | history | points | MSTL periods (steps) | MSTL fit ms | MSTL predict ms | HoltWinters fit ms | HW predict ms | augurs wasm memory after, MiB | process RSS, MiB |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.step} | ${r.days} d | ${r.points} | ${r.periods.join(' + ')} | ${fmt(r.mstlFitMs)} | ${fmt(r.mstlPredictMs, 2)} | ${fmt(r.hwFitMs)} | ${fmt(r.hwPredictMs, 2)} | ${fmt(r.wasmMiB)} | ${fmt(r.rssMiB)} |`),
];
console.log(JSON.stringify({ rows, loadStart, loadEnd }));
console.log(lines.join('\n'));
