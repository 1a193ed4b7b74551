#!/usr/bin/env node
// Joins runs of bench/references.mjs made on the same folds (e.g. the statistical models and the
// two reference libraries in one run, the LSTM and the Ensemble in another) and scores issue 15's
// targets on the joined table: the Ensemble's median MASE against 0.9 x the better reference's,
// the Ensemble against its best member on each trace (1.1 x + 0.05), the default statistical model
// against statsmodels. Refuses runs whose folds differ.
//
//   node bench/references-merge.mjs --runs bench/results/references.json,/tmp/ml.json[,label=/tmp/old.json]
//        [--out bench/results/references-ensemble.md] [--command TEXT]
// A `label=` prefix renames that run's Ensemble column (to compare two builds' Ensembles).
import { readFile, writeFile } from 'node:fs/promises';
import { flag, fmt as f, median } from './lib.mjs';

const REFERENCES = ['statsmodels-HW', 'augurs-MSTL'];
const MEMBERS = ['HoltWinters', 'SeasonalNaive', 'Linear', 'LSTM'];
const CLASSES = ['bursty', 'level-shifting', 'seasonal', 'other'];

/** One row per trace: its class and every model's MASE and fit seconds, from every run. */
export function join(runs) {
  const byTrace = new Map();
  for (const { label, result } of runs) {
    for (const run of result.runs) {
      const row = byTrace.get(run.trace) ?? { trace: run.trace, class: run.class, origins: run.origins, mase: {}, fitSeconds: {} };
      if (JSON.stringify(row.origins) !== JSON.stringify(run.origins)) throw new Error(`${run.trace}: the runs' folds differ`);
      for (const [name, m] of Object.entries(run.models ?? {})) {
        const column = label && name === 'Ensemble' ? `Ensemble (${label})` : name;
        if (row.mase[column] !== undefined && Math.abs(row.mase[column] - m.mase) > 1e-9) throw new Error(`${run.trace}: ${column} differs between runs (${row.mase[column]} vs ${m.mase})`);
        row.mase[column] = m.mase ?? null;
        row.fitSeconds[column] = m.fitSeconds ?? null;
      }
      byTrace.set(run.trace, row);
    }
  }
  return [...byTrace.values()].sort((a, b) => (a.trace < b.trace ? -1 : 1));
}

const finite = (x) => typeof x === 'number' && Number.isFinite(x);

/** The best of `names` on a row, by MASE, or null. */
function bestOf(row, names) {
  const scored = names.filter((n) => finite(row.mase[n]));
  return scored.length === 0 ? null : scored.reduce((a, b) => (row.mase[b] < row.mase[a] ? b : a));
}

export function markdown(rows, command) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r.mase)))];
  const ensembles = columns.filter((c) => c.startsWith('Ensemble'));
  const lines = [];
  lines.push('## The Ensemble and the LSTM against the reference libraries (issue 15)');
  lines.push('');
  if (command) lines.push(`Command: ${command}`);
  lines.push('');
  lines.push("The runs of bench/references.mjs joined on their folds (the same 24 origins, 30-minute horizon, 7-day history on every trace; the script refuses runs whose folds or shared models' MASE differ). Members of the Ensemble: HoltWinters, SeasonalNaive, Linear, LSTM.");
  lines.push('');
  lines.push(`| traces | ${columns.join(' | ')} |`);
  lines.push(`|---|${columns.map(() => '---').join('|')}|`);
  const groups = [['all', rows], ...CLASSES.map((c) => [c, rows.filter((r) => r.class === c)])].filter(([, rs]) => rs.length > 0);
  for (const [name, rs] of groups) {
    const medians = columns.map((c) => median(rs.map((r) => r.mase[c]).filter(finite)));
    const best = Math.min(...medians.filter(finite));
    lines.push(`| ${name} (${rs.length}) | ${medians.map((m) => (m === best ? `**${f(m)}**` : f(m))).join(' | ')} |`);
  }
  lines.push('');
  lines.push('| target | measured | verdict |');
  lines.push('|---|---|---|');
  const verdict = (ok) => (ok ? '**met**' : '**missed**');
  const betterReference = Math.min(...REFERENCES.map((c) => median(rows.map((r) => r.mase[c]).filter(finite))).filter(finite));
  for (const e of ensembles) {
    const m = median(rows.map((r) => r.mase[e]).filter(finite));
    lines.push(`| ${e}: median MASE <= 0.9 x the better reference's median (${f(betterReference)}) | ${f(m)} (${f(m / betterReference)} x) | ${verdict(m <= 0.9 * betterReference)} |`);
    const perTrace = rows.map((r) => {
      const ref = bestOf(r, REFERENCES);
      return ref && finite(r.mase[e]) ? r.mase[e] / r.mase[ref] : null;
    });
    lines.push(`| ${e}: median over traces of its MASE / the better reference's on that trace | ${f(median(perTrace.filter(finite)))}; better on ${perTrace.filter((x) => finite(x) && x < 1).length} of ${perTrace.filter(finite).length} | (context) |`);
    const over = rows.filter((r) => {
      const b = bestOf(r, MEMBERS);
      return b && finite(r.mase[e]) && r.mase[e] > 1.1 * r.mase[b] + 0.05;
    });
    lines.push(`| ${e}: on no trace over 1.1 x its best member + 0.05 | ${over.length} of ${rows.length}${over.length ? `: ${over.map((r) => `${r.trace.replace(/\.csv$/, '')} (${f(r.mase[e])} vs ${bestOf(r, MEMBERS)} ${f(r.mase[bestOf(r, MEMBERS)])})`).join('; ')}` : ''} | ${verdict(over.length === 0)} |`);
  }
  if (columns.includes('statsmodels-HW')) {
    const hw = rows.map((r) => (finite(r.mase.HoltWinters) && finite(r.mase['statsmodels-HW']) ? r.mase.HoltWinters / r.mase['statsmodels-HW'] : null)).filter(finite);
    lines.push(`| HoltWinters (the default): median MASE ratio to statsmodels' Holt-Winters <= 1.0 | ${f(median(hw))}; better on ${hw.filter((x) => x < 1).length} of ${hw.length} | ${verdict(median(hw) <= 1)} |`);
  }
  lines.push('');
  lines.push(`| model | median fit s per fold | slowest trace's median fit s per fold |`);
  lines.push('|---|---|---|');
  for (const c of columns) {
    const fits = rows.map((r) => r.fitSeconds[c]).filter(finite);
    if (fits.length) lines.push(`| ${c} | ${f(median(fits))} | ${f(Math.max(...fits))} |`);
  }
  lines.push('');
  lines.push(`| trace | class | ${columns.join(' | ')} | best member | ${ensembles.map((e) => `${e} / best member`).join(' | ')} |`);
  lines.push(`|---|---|${columns.map(() => '---').join('|')}|---|${ensembles.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const b = bestOf(r, MEMBERS);
    const best = bestOf(r, columns);
    lines.push(`| ${r.trace} | ${r.class} | ${columns.map((c) => (c === best ? `**${f(r.mase[c])}**` : f(r.mase[c]))).join(' | ')} | ${b ?? '—'} | ${ensembles.map((e) => (b && finite(r.mase[e]) ? f(r.mase[e] / r.mase[b]) : '—')).join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const specs = flag('--runs', '').split(',').filter(Boolean);
  if (specs.length < 2) throw new Error('usage: --runs a.json,b.json[,label=c.json] [--out FILE]');
  const runs = await Promise.all(
    specs.map(async (spec) => {
      const eq = spec.indexOf('=');
      const [label, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [null, spec];
      return { label, result: JSON.parse(await readFile(path, 'utf8')) };
    }),
  );
  const text = markdown(join(runs), flag('--command', ''));
  const out = flag('--out');
  if (out) await writeFile(out, `${text}\n`);
  else process.stdout.write(`${text}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
