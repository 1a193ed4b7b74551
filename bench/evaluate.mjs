#!/usr/bin/env node
// Runs `prescale backtest` and `prescale simulate` over every trace in ../shared/data/traces/dev with
// one fixed set of settings, and writes bench/RESULTS.md (plus the raw JSON in bench/results/).
//
//   npm run build && node bench/evaluate.mjs [--traces DIR] [--jobs 2] [--model holt-winters] [--only SUBSTRING]
//   node bench/evaluate.mjs --report-only     (rewrite RESULTS.md from bench/results/evaluate.json)
//
// Settings (the same for every trace):
//   capacity per replica = the trace's 95th percentile / 10 (so its busy level needs about 10 replicas)
//   metric lag 1m; start-up delays 2m (a web service) and 10m (a model server loading its model)
//   warm-up 3d; prescale quantiles 0.5,0.8,0.9,0.95,0.99; HPA targets 1,0.9,0.8,0.7,0.6,0.5
//   backtest: horizon 30m, 24 folds, warm-up 3d, history 7d, models seasonal-naive, holt-winters, linear
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { capacityOf, flag, fmt as f, hasFlag, median, pool, prescale, resultsDir as outDir, root } from './lib.mjs';

const traceDir = resolve(root, flag('--traces', '../shared/data/traces/dev'));
const jobs = Number(flag('--jobs', String(Math.max(1, cpus().length))));
const model = flag('--model', 'holt-winters');
const only = flag('--only', '');
const DELAYS = ['2m', '10m'];






async function main() {
  if (hasFlag('--report-only')) {
    // Rewrites RESULTS.md from the last run's bench/out/evaluate.json (e.g. after editing the text).
    const rows = JSON.parse(await readFile(join(outDir, 'evaluate.json'), 'utf8'));
    const previous = await readFile(join(root, 'bench', 'RESULTS.md'), 'utf8').catch(() => '');
    const wall = Number(/wall time (\d+) s/.exec(previous)?.[1] ?? 0);
    await writeFile(join(root, 'bench', 'RESULTS.md'), report(rows, wall));
    return;
  }
  const files = (await readdir(traceDir)).filter((n) => n.endsWith('.csv') && n.includes(only)).sort();
  await mkdir(outDir, { recursive: true });
  const tasks = [];
  const rows = [];
  for (const name of files) {
    const file = join(traceDir, name);
    const capacity = await capacityOf(file);
    const row = { trace: name, capacity, backtest: null, simulate: {} };
    rows.push(row);
    if (!(capacity > 0)) {
      row.skipped = 'its 95th percentile is 0';
      continue;
    }
    tasks.push(async () => {
      try {
        const r = await prescale(['backtest', '--trace', file, '--horizon', '30m', '--folds', '24', '--warmup', '3d']);
        row.backtest = r.json;
        row.backtestSeconds = r.seconds;
      } catch (err) {
        row.backtestError = String(err.stderr || err.message).trim().split('\n').pop();
      }
      process.stderr.write(`backtest ${name} done\n`);
    });
    for (const delay of DELAYS) {
      tasks.push(async () => {
        try {
          const r = await prescale([
            'simulate', '--trace', file, '--capacity-per-replica', String(capacity), '--startup-delay', delay,
            '--metric-lag', '1m', '--model', model, '--warmup', '3d',
          ]);
          row.simulate[delay] = { ...r.json, seconds: r.seconds };
        } catch (err) {
          row.simulate[delay] = { error: String(err.stderr || err.message).trim().split('\n').pop() };
        }
        process.stderr.write(`simulate ${name} ${delay} done\n`);
      });
    }
  }
  const started = Date.now();
  await pool(tasks, jobs);
  const wallSeconds = (Date.now() - started) / 1000;
  await writeFile(join(outDir, 'evaluate.json'), JSON.stringify(rows, null, 1));
  await writeFile(join(root, 'bench', 'RESULTS.md'), report(rows, wallSeconds));
  process.stderr.write(`wrote bench/RESULTS.md in ${wallSeconds.toFixed(0)} s\n`);
}

function bestPoint(sim) {
  const pts = (sim.summary ?? []).filter((s) => s.underRatioAtEqualCost !== null);
  if (pts.length === 0) return null;
  return pts.reduce((a, b) => (b.underRatioAtEqualCost < a.underRatioAtEqualCost ? b : a));
}

function report(rows, wallSeconds) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [];
  lines.push('# Benchmark results: prescale vs the best-tuned HPA on real traces');
  lines.push('');
  lines.push(`Command: \`npm run build && node bench/evaluate.mjs --model ${model}\` (wall time ${Math.round(wallSeconds)} s, ${jobs} jobs).`);
  lines.push(`Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Generated ${new Date().toISOString()}.`);
  lines.push('');
  lines.push('Settings, the same for every trace: capacity per replica = the trace\'s 95th percentile / 10; metric lag 1m;');
  lines.push('start-up delays 2m (web service) and 10m (model server); warm-up 3d (simulated, not scored);');
  lines.push(`prescale model ${model}, quantiles 0.5, 0.8, 0.9, 0.95, 0.99, lead time = start-up delay, other settings the CRD defaults`);
  lines.push('(interval 30s, headroom 10%, reactive floor, 5m scale-down stabilization); HPA targets 1 … 0.5 with the default behaviour.');
  lines.push('`under@cost` = prescale\'s under-provisioned minutes / the HPA frontier\'s at the same replica-minutes;');
  lines.push('`cost@under` = prescale\'s replica-minutes / what the HPA frontier needs for the same under-provisioned minutes.');
  lines.push('Below 1 is better than the best-tuned HPA; — where the point lies outside the HPA frontier\'s range.');
  lines.push('');

  lines.push('## Summary (medians across traces)');
  lines.push('');
  lines.push('| start-up delay | traces with a comparable point | median best under@cost | median cost@under at q0.9 | traces where the best point < 1 |');
  lines.push('|---|---|---|---|---|');
  for (const delay of DELAYS) {
    const sims = rows.map((r) => r.simulate[delay]).filter((s) => s && !s.error);
    const best = sims.map(bestPoint).filter(Boolean).map((p) => p.underRatioAtEqualCost);
    const q9 = sims.map((s) => s.summary.find((x) => x.policy === 'prescale@q0.9')?.costRatioAtEqualUnder ?? null);
    lines.push(`| ${delay} | ${best.length} of ${sims.length} | ${f(median(best))} | ${f(median(q9))} | ${best.filter((x) => x < 1).length} |`);
  }
  lines.push('');
  const models = ['seasonal-naive', 'holt-winters', 'linear'];
  lines.push('| backtest (horizon 30m) | ' + models.join(' | ') + ' |');
  lines.push('|---|' + models.map(() => '---').join('|') + '|');
  const mase = (m) => rows.map((r) => r.backtest?.models.find((x) => x.name === m)?.mase ?? null);
  lines.push('| median MASE | ' + models.map((m) => f(median(mase(m)))).join(' | ') + ' |');
  const hwWins = rows.filter((r) => {
    const hw = r.backtest?.models.find((x) => x.name === 'holt-winters')?.mase;
    const sn = r.backtest?.models.find((x) => x.name === 'seasonal-naive')?.mase;
    return hw !== undefined && sn !== undefined && hw !== null && sn !== null && hw < sn;
  }).length;
  lines.push(`| traces where holt-winters beats seasonal-naive | ${hwWins} of ${rows.filter((r) => r.backtest).length} | | |`);
  lines.push('');

  for (const delay of DELAYS) {
    lines.push(`## Simulation, start-up delay ${delay}`);
    lines.push('');
    lines.push('| trace | capacity | oracle replica-min | HPA frontier (target: replica-min / under-min) | prescale (q: replica-min / under-min / under@cost / cost@under) | best under@cost | s |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const s = r.simulate[delay];
      if (!s) {
        lines.push(`| ${r.trace} | — | skipped: ${r.skipped ?? 'not run'} | | | | |`);
        continue;
      }
      if (s.error) {
        lines.push(`| ${r.trace} | ${f(r.capacity)} | error: ${s.error} | | | | |`);
        continue;
      }
      const byName = new Map(s.policies.map((p) => [p.name, p]));
      const hpa = s.policies.filter((p) => p.name.startsWith('hpa@')).map((p) => `${p.name.slice(4)}: ${f(p.replicaMinutes)} / ${f(p.underProvisionedMinutes)}`).join('<br>');
      const pre = s.summary
        .map((x) => {
          const p = byName.get(x.policy);
          return `${x.policy.slice(10)}: ${f(p.replicaMinutes)} / ${f(p.underProvisionedMinutes)} / ${f(x.underRatioAtEqualCost)} / ${f(x.costRatioAtEqualUnder)}`;
        })
        .join('<br>');
      const best = bestPoint(s);
      lines.push(`| ${r.trace} | ${f(r.capacity)} | ${f(byName.get('oracle')?.replicaMinutes)} | ${hpa} | ${pre} | ${best ? `${f(best.underRatioAtEqualCost)} (${best.policy.slice(9)})` : '—'} | ${f(s.seconds, 2)} |`);
    }
    lines.push('');
  }

  lines.push('## Where prescale loses, and why');
  lines.push('');
  lines.push('Traces where no prescale point beats the HPA frontier at equal cost (best under@cost >= 1, or no point within the');
  lines.push("frontier's cost range), with the replica-minutes of prescale's cheapest point against the HPA's dearest, and how often");
  lines.push('each changed the replica count (scale events of prescale@q0.9 against hpa@0.8):');
  lines.push('');
  lines.push('| trace | delay | best under@cost | cheapest prescale / dearest HPA replica-min | scale events prescale@q0.9 / hpa@0.8 | backtest MASE holt-winters / seasonal-naive |');
  lines.push('|---|---|---|---|---|---|');
  for (const delay of DELAYS) {
    for (const r of rows) {
      const s = r.simulate[delay];
      if (!s || s.error) continue;
      const best = bestPoint(s);
      if (best && best.underRatioAtEqualCost < 1) continue;
      const pre = s.policies.filter((p) => p.name.startsWith('prescale@'));
      const hpa = s.policies.filter((p) => p.name.startsWith('hpa@'));
      const cheapest = Math.min(...pre.map((p) => p.replicaMinutes));
      const dearest = Math.max(...hpa.map((p) => p.replicaMinutes));
      const ev = (n) => s.policies.find((p) => p.name === n)?.scaleEvents;
      const m = (n) => r.backtest?.models.find((x) => x.name === n)?.mase ?? null;
      lines.push(`| ${r.trace} | ${delay} | ${best ? f(best.underRatioAtEqualCost) : '—'} | ${f(cheapest)} / ${f(dearest)} | ${ev('prescale@q0.9')} / ${ev('hpa@0.8')} | ${f(m('holt-winters'))} / ${f(m('seasonal-naive'))} |`);
    }
  }
  lines.push('');
  lines.push(LOSSES);
  lines.push('');

  lines.push('## Backtest MASE per model (horizon 30m, 24 folds)');
  lines.push('');
  lines.push('| trace | ' + models.join(' | ') + ' | best |');
  lines.push('|---|' + models.map(() => '---').join('|') + '|---|');
  for (const r of rows) {
    if (!r.backtest) {
      lines.push(`| ${r.trace} | ${r.backtestError ?? r.skipped ?? '—'} | | | |`);
      continue;
    }
    const vals = models.map((m) => r.backtest.models.find((x) => x.name === m)?.mase ?? null);
    const bestIdx = vals.reduce((bi, v, i) => (v !== null && (vals[bi] === null || v < vals[bi]) ? i : bi), 0);
    lines.push(`| ${r.trace} | ${vals.map((v) => f(v)).join(' | ')} | ${models[bestIdx]} |`);
  }
  lines.push('');
  // Sections written by the other benches (bench/ensemble.mjs, lstm-cost.mjs, training-lag.mjs, scale.mjs).
  for (const section of ['ensemble.md', 'combination.md', 'lstm-cost.md', 'training-lag.md', 'scale.md']) {
    const path = join(outDir, section);
    if (existsSync(path)) lines.push('', readFileSync(path, 'utf8').trim());
  }
  return lines.join('\n') + '\n';
}

// Written after reading the per-trace numbers and the simulate --report pages of the losing traces.
const LOSSES = `Why. Most losing traces are bursty: the disk-write-bytes traces are flat with short spikes, ec2-cpu c6585a,
24ae8d and fe7f93 jump between levels at random, the Twitter volumes add news bursts to a weak daily cycle. A forecast
cannot see a burst coming, so there prescale acts as a reactive scaler that also pays for forecasting: (1) its quantile
bands come from the one-step residuals widened with the horizon, and bursts make those residuals heavy-tailed, so even
q0.5 plans well above the typical level (its cheapest point already costs more than the dearest HPA run on the
disk-write traces, where Holt-Winters is also no better than seasonal-naive); (2) the default scale-down (5-minute
stabilization, then at most 10 % per minute) keeps the replicas bought for a burst longer than the HPA, which drops them
after its 5-minute window at up to 100 % per 15 s; (3) prescale re-decides every 30 s on a moving forecast, one replica
at a time: a median of 2.5 times the HPA's scale events (up to 51 times). The 10-minute start-up delay loses more: the
planning window lies 10 minutes out, where the bands are widest, and on alibaba (only 5 scored days after a 5-hour gap)
and rds-cc0c53 the low quantiles under-plan the ramps while the high ones are dear. Where the load has a daily shape
prescale is below 1 at every quantile and both delays: Azure, Google, nyc-taxi, bitbrains, the ASG misconfiguration
trace. Candidates, to be measured before changing a default: bands from multi-step rather than scaled one-step residuals,
a faster default scale-down, and a tolerance band on the predictive recommendation like the HPA's 10 %.`;

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack || err}\n`);
  process.exit(1);
});
