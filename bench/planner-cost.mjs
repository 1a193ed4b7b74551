#!/usr/bin/env node
// Time per replan: replan() (src/planner) for one scaler on the last 7 days of a dev trace at one-minute
// steps, the default grid of 24 plans plus the HPA sweep, in this process and nothing else. Reports wall
// and CPU seconds per replan (the first run of each trace includes JIT warm-up and is reported apart).
// Writes bench/results/planner-cost.json.
//
//   npm run build && node bench/planner-cost.mjs [--traces a.csv,b.csv] [--model HoltWinters] [--runs 3] [--lead 2m]
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { capacityOf, flag, resultsDir, root } from './lib.mjs';

const dist = join(root, 'dist');
const { toScalerConfig } = await import(join(dist, 'api/config.js'));
const { replan } = await import(join(dist, 'planner/replan.js'));
const { parseDuration } = await import(join(dist, 'api/units.js'));

const DEFAULT_TRACES = ['nab-nyc-taxi.csv', 'nab-twitter-volume-aapl.csv', 'bitbrains-2013-total-cpu.csv', 'azure-2019-vm-cpu.csv'];
const traces = flag('--traces', DEFAULT_TRACES.join(',')).split(',');
const model = flag('--model', 'HoltWinters');
const runs = Number(flag('--runs', '3'));
const leadMs = parseDuration(flag('--lead', '2m'));
const MIN = 60_000;

/** The trace's last 7 days on a one-minute grid, interpolated linearly between its points. */
async function lastWeek(file) {
  const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
  const points = lines.map((l) => l.split(',')).map(([t, v]) => ({ t: Date.parse(t), v: Number(v) })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const end = points[points.length - 1].t;
  const start = Math.ceil((end - 7 * 1440 * MIN) / MIN) * MIN;
  const values = [];
  let j = 0;
  for (let t = start; t <= end; t += MIN) {
    while (j + 1 < points.length && points[j + 1].t <= t) j++;
    const a = points[j];
    const b = points[Math.min(j + 1, points.length - 1)];
    values.push(b.t > a.t ? a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t) : a.v);
  }
  return { start, stepMs: MIN, values };
}

const rows = [];
for (const name of traces) {
  const file = resolve(root, '../shared/data/traces/dev', name);
  const demand = await lastWeek(file);
  const config = toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 100,
    metrics: [{ name: 'demand', query: 'x', targetPerReplica: await capacityOf(file) }],
    forecast: { model },
    scaling: { leadTime: `${leadMs / MIN}m`, objective: { maxUnderProvisioned: '0.5%' } },
  });
  const wall = [];
  const cpu = [];
  let report;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    report = replan({ demand, config, leadTimeMs: leadMs });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const warm = (xs) => (xs.length > 1 ? xs.slice(1) : xs);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const row = { trace: name, minutes: demand.values.length, firstRunSeconds: wall[0], wallSeconds: mean(warm(wall)), cpuSeconds: mean(warm(cpu)), plan: report.plan, met: report.met, plans: report.plans };
  rows.push(row);
  process.stderr.write(`${name}: ${row.wallSeconds.toFixed(2)} s wall, ${row.cpuSeconds.toFixed(2)} s CPU per replan (first ${row.firstRunSeconds.toFixed(2)} s)\n`);
}
const out = { generatedAt: new Date().toISOString(), machine: `${cpus().length} × ${cpus()[0]?.model}`, node: process.version, model, runs, leadTime: `${leadMs / MIN}m`, rows };
await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, 'planner-cost.json'), `${JSON.stringify(out, null, 1)}\n`);
const fmt = (x) => x.toFixed(2);
const md = [
  '## The planner\'s cost: one replan',
  '',
  `Command: \`npm run build && node bench/planner-cost.mjs --model ${model} --runs ${runs} --lead ${out.leadTime}\` (nothing else running). Generated ${out.generatedAt}; ${out.machine}, Node ${out.node}.`,
  '',
  `One replan = replan() on the trace's last 7 days at one-minute steps (10,080 points): the ${model} model retrained every 6 h of the replay and forecasting every minute, 24 plans decided every 30 s and 7 HPA runs every 15 s, in lock-step; then the choice. Seconds per replan, mean of the runs after the first (the first includes JIT warm-up). The operator runs it in a training worker, never on the reconcile path, once a day per scaler.`,
  '',
  '| trace | wall s | CPU s | first run s | plan chosen | objective met |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.trace} | ${fmt(r.wallSeconds)} | ${fmt(r.cpuSeconds)} | ${fmt(r.firstRunSeconds)} | q${r.plan.quantile} +${Math.round(r.plan.headroom * 100)}% | ${r.met ? 'yes' : 'no'} |`),
  '',
  `Target (issue 13): < 2 s per replan on the statistical models — ${rows.every((r) => r.wallSeconds < 2) ? '**met**' : '**missed**'} (slowest ${fmt(Math.max(...rows.map((r) => r.wallSeconds)))} s).`,
  '',
];
await writeFile(join(resultsDir, 'planner.md'), md.join('\n'));
console.log(JSON.stringify(out, null, 1));
