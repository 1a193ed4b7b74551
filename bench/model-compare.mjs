#!/usr/bin/env node
// Two `bench/evaluate.mjs` runs that differ only in --model, side by side: per start-up delay, the
// simulated under@cost and cost@under of the default quantile (q0.9) and of the planner's choice
// (prescale@auto), trace by trace, with the ratio of the two models (below 1: the second is better).
// Writes Markdown to --out (or stdout).
//
//   node bench/model-compare.mjs --base DIR_A --other DIR_B [--out bench/results/ensemble-simulate.md]
//        [--command 'how the two runs were made'] [--note 'what differs between them besides the model']
//        [--base-name HoltWinters] [--other-name Ensemble]
// DIR_A and DIR_B hold the evaluate.json of each run (evaluate.mjs --out DIR).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTO_POLICY, flag, fmt as f, median } from './lib.mjs';

const DELAYS = ['2m', '10m'];
const POINTS = [
  { label: 'q0.9 (default)', policy: 'prescale@q0.9' },
  { label: 'prescale@auto (planner)', policy: AUTO_POLICY },
];

/** under@cost, cost@under and scale events of one policy in one simulate run, or null. */
export function pointOf(sim, policy) {
  if (!sim || sim.error) return null;
  const summary = sim.summary?.find((s) => s.policy === policy);
  const result = sim.policies?.find((p) => p.name === policy);
  if (!summary || !result) return null;
  return { under: summary.underRatioAtEqualCost, cost: summary.costRatioAtEqualUnder, scaleEvents: result.scaleEvents };
}

/**
 * The wall time of the simulate process behind one delay's result, counted once per process: a run
 * of both delays (delaysInRun 2, bench/evaluate.mjs since a9b09f2) is charged to its first delay.
 */
function runSeconds(row, delay) {
  const sim = row.simulate?.[delay];
  if (!sim || sim.seconds === undefined) return null;
  if (!(sim.delaysInRun > 1)) return sim.seconds;
  const first = DELAYS.find((d) => row.simulate?.[d]?.delaysInRun > 1);
  return first === delay ? sim.seconds : 0;
}

const ratio = (a, b) => (a === null || b === null || a === undefined || b === undefined || !(a > 0) ? null : b / a);

export function compare(base, other, names) {
  const byTrace = new Map(other.map((r) => [r.trace, r]));
  const rows = [];
  for (const a of base) {
    const b = byTrace.get(a.trace);
    if (!b) continue;
    for (const delay of DELAYS) {
      for (const { policy } of POINTS) {
        const pa = pointOf(a.simulate?.[delay], policy);
        const pb = pointOf(b.simulate?.[delay], policy);
        rows.push({
          trace: a.trace,
          delay,
          policy,
          base: pa,
          other: pb,
          baseSeconds: runSeconds(a, delay),
          otherSeconds: runSeconds(b, delay),
          // Every policy's result the same in both runs: what a change meant to leave results alone shows.
          identical: Boolean(a.simulate?.[delay]?.policies && JSON.stringify(a.simulate[delay].policies) === JSON.stringify(b.simulate?.[delay]?.policies)),
        });
      }
    }
  }
  return { names, rows };
}

export function markdown({ names, rows }, command, note = '') {
  const [A, B] = names;
  const lines = [];
  lines.push(`## Simulation: ${B} beside ${A} on every dev trace (issue 15)`);
  lines.push('');
  if (command) lines.push(`Command: ${command}`);
  lines.push('');
  if (note) lines.push(note, '');
  lines.push(`The same settings as the main evaluation above (equal-cost comparison against the best-tuned HPA, SPEC section 6), run once with each model. under@cost: prescale's under-provisioned minutes / the HPA frontier's at the same replica-minutes (below 1 beats the HPA); cost@under: its replica-minutes / the HPA frontier's at the same under-provisioning; — where the point lies outside the frontier. ${B} / ${A}: the ratio of the two models' under@cost on the same trace (below 1: ${B} better). Scale events: of the run itself.`);
  lines.push('');
  lines.push(`| delay | point | traces | median under@cost ${A} | median under@cost ${B} | median ${B} / ${A} | ${B} better / worse | worse than the HPA (> 1) ${A} / ${B} | median cost@under ${A} / ${B} | median scale events ${A} / ${B} |`);
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const delay of DELAYS) {
    for (const { label, policy } of POINTS) {
      const sel = rows.filter((r) => r.delay === delay && r.policy === policy && r.base && r.other);
      const ua = sel.map((r) => r.base.under);
      const ub = sel.map((r) => r.other.under);
      const ratios = sel.map((r) => ratio(r.base.under, r.other.under)).filter((x) => x !== null);
      const better = sel.filter((r) => r.base.under !== null && r.other.under !== null && r.other.under < r.base.under).length;
      const worse = sel.filter((r) => r.base.under !== null && r.other.under !== null && r.other.under > r.base.under).length;
      const overHpa = (xs) => xs.filter((x) => x !== null && x > 1).length;
      lines.push(
        `| ${delay} | ${label} | ${sel.length} | ${f(median(ua))} | ${f(median(ub))} | ${f(median(ratios))} | ${better} / ${worse} | ${overHpa(ua)} / ${overHpa(ub)} | ${f(median(sel.map((r) => r.base.cost)))} / ${f(median(sel.map((r) => r.other.cost)))} | ${f(median(sel.map((r) => r.base.scaleEvents)))} / ${f(median(sel.map((r) => r.other.scaleEvents)))} |`,
      );
    }
  }
  lines.push('');
  const secondsOf = (pick) => rows.filter((r) => r.policy === POINTS[0].policy).reduce((sum, r) => sum + (pick(r) ?? 0), 0);
  lines.push(`Sum over traces of each simulate process's wall time (the runs' own seconds, with other work sharing the machine as the command says; a process that ran both delays counted once): ${A} ${f(secondsOf((r) => r.baseSeconds))} s, ${B} ${f(secondsOf((r) => r.otherSeconds))} s.`);
  const compared = rows.filter((r) => r.policy === POINTS[0].policy);
  lines.push(`Simulate results identical in both runs (every policy's under-provisioned minutes, replica-minutes and scale events): ${compared.filter((r) => r.identical).length} of ${compared.length} trace-delay pairs.`);
  lines.push('');
  for (const delay of DELAYS) {
    lines.push(`### Per trace, start-up delay ${delay}: under@cost ${A} → ${B}`);
    lines.push('');
    lines.push(`| trace | q0.9 ${A} | q0.9 ${B} | q0.9 ${B} / ${A} | auto ${A} | auto ${B} | auto ${B} / ${A} |`);
    lines.push('|---|---|---|---|---|---|---|');
    for (const trace of [...new Set(rows.map((r) => r.trace))]) {
      const cell = (policy) => {
        const r = rows.find((x) => x.trace === trace && x.delay === delay && x.policy === policy);
        return [f(r?.base?.under ?? null), f(r?.other?.under ?? null), f(ratio(r?.base?.under, r?.other?.under))];
      };
      lines.push(`| ${trace} | ${cell('prescale@q0.9').join(' | ')} | ${cell(AUTO_POLICY).join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const baseDir = flag('--base');
  const otherDir = flag('--other');
  if (!baseDir || !otherDir) throw new Error('usage: --base DIR --other DIR [--out FILE]');
  const load = async (dir) => JSON.parse(await readFile(join(dir, 'evaluate.json'), 'utf8'));
  const [base, other] = await Promise.all([load(baseDir), load(otherDir)]);
  const names = [flag('--base-name', 'HoltWinters'), flag('--other-name', 'Ensemble')];
  const text = markdown(compare(base, other, names), flag('--command', ''), flag('--note', ''));
  const out = flag('--out');
  if (out) await writeFile(out, `${text}\n`);
  else process.stdout.write(`${text}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
