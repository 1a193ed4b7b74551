#!/usr/bin/env node
// Time per replan: the planner (src/planner) on 7 days of 1-minute history of a dev trace, for one
// scaler, in this process (no other work). Prints JSON.
//
//   npm run build && node bench/planner-cost.mjs [--trace FILE] [--model HoltWinters] [--runs 3]
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { capacityOf, flag, root } from './lib.mjs';

const dist = join(root, 'dist');
const { toScalerConfig } = await import(join(dist, 'api/config.js'));
const { replan } = await import(join(dist, 'planner/replan.js'));

const file = resolve(root, flag('--trace', '../shared/data/traces/dev/nab-nyc-taxi.csv'));
const model = flag('--model', 'HoltWinters');
const runs = Number(flag('--runs', '3'));
const capacity = await capacityOf(file);
const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
const points = lines.map((l) => l.split(',')).map(([t, v]) => ({ t: Date.parse(t), v: Number(v) }));
// Resample to one minute (linear), the last 7 days.
const MIN = 60_000;
const end = points[points.length - 1].t;
const start = end - 7 * 1440 * MIN;
const values = [];
let j = 0;
for (let t = Math.ceil(start / MIN) * MIN; t <= end; t += MIN) {
  while (j + 1 < points.length && points[j + 1].t <= t) j++;
  const a = points[j], b = points[Math.min(j + 1, points.length - 1)];
  values.push(b.t > a.t ? a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t) : a.v);
}
const demand = { start: Math.ceil(start / MIN) * MIN, stepMs: MIN, values };
const config = toScalerConfig({
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  minReplicas: 1,
  maxReplicas: 100,
  metrics: [{ name: 'demand', query: 'x', targetPerReplica: capacity }],
  forecast: { model, quantile: 'Auto' },
  scaling: { leadTime: '2m', headroom: 'Auto', objective: { maxUnderProvisioned: '0.5%' } },
});
const times = [];
let last;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  last = replan({ demand, config, leadTimeMs: 2 * MIN });
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(JSON.stringify({ trace: file.split('/').pop(), model, minutes: values.length, seconds: times, report: last }, null, 1));
