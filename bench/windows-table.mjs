#!/usr/bin/env node
// The decision-window scores of `prescale backtest --json` runs side by side: per trace and lead
// time, each model's MASE over the window [lead, lead + interval] and its planning quantile's
// coverage there, with the median over the traces. Writes Markdown to stdout.
//
//   node bench/windows-table.mjs backtest-1.json backtest-2.json ...
import { readFile } from 'node:fs/promises';
import { fmt as f, median } from './lib.mjs';

const runs = await Promise.all(process.argv.slice(2).map(async (file) => JSON.parse(await readFile(file, 'utf8'))));
const models = [...new Set(runs.flatMap((r) => r.models.map((m) => m.name)))];
const leads = [...new Set(runs.flatMap((r) => r.models.flatMap((m) => (m.windows ?? []).map((w) => w.lead))))];
const windowOf = (run, model, lead) => run.models.find((m) => m.name === model)?.windows?.find((w) => w.lead === lead);
const lines = [];
lines.push(`| trace | lead | ${models.map((m) => `${m} MASE (coverage q${runs[0]?.quantile})`).join(' | ')} | 30-min MASE ${models.join(' / ')} |`);
lines.push(`|---|---|${models.map(() => '---|').join('')}---|`);
for (const run of runs) {
  for (const lead of leads) {
    const cells = models.map((m) => {
      const w = windowOf(run, m, lead);
      return w ? `${f(w.mase)} (${f(w.coverage, 2)})` : '—';
    });
    lines.push(`| ${run.trace} | ${lead} | ${cells.join(' | ')} | ${models.map((m) => f(run.models.find((x) => x.name === m)?.mase)).join(' / ')} |`);
  }
}
for (const lead of leads) {
  const cells = models.map((m) => {
    const ws = runs.map((r) => windowOf(r, m, lead)).filter(Boolean);
    return `${f(median(ws.map((w) => w.mase)))} (${f(median(ws.map((w) => w.coverage)), 2)})`;
  });
  lines.push(`| **median** | ${lead} | ${cells.join(' | ')} | ${models.map((m) => f(median(runs.map((r) => r.models.find((x) => x.name === m)?.mase).filter((x) => x !== undefined)))).join(' / ')} |`);
}
process.stdout.write(lines.join('\n') + '\n');
