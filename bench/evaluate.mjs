#!/usr/bin/env node
// Runs `prescale backtest` and `prescale simulate` over every trace in ../shared/data/traces/dev with
// one fixed set of settings, and writes bench/RESULTS.md (plus the raw JSON in bench/results/).
//
//   npm run build && node bench/evaluate.mjs [--traces DIR] [--jobs 2] [--model holt-winters] [--only SUBSTRING] [--out DIR] [--dist DIR]
//   node bench/evaluate.mjs --report-only [--out DIR]   (rewrite RESULTS.md from DIR/evaluate.json)
//   node bench/evaluate.mjs ... --resume   (keep the results in DIR/evaluate.partial.json, run the rest)
//
// Each backtest and simulate result is written to DIR/evaluate.partial.json as it finishes, so a run
// that dies can be resumed with the same flags; the wall time then covers only the resumed part.
//
// A full run writes bench/RESULTS.md and bench/results/evaluate.json. A partial one (--only) never
// touches them: it writes evaluate.json and RESULTS.md to --out, by default $TMPDIR/prescale-bench.
//
// Settings (the same for every trace):
//   capacity per replica = the trace's 95th percentile / 10 (so its busy level needs about 10 replicas)
//   metric lag 1m; start-up delays 2m (a web service) and 10m (a model server loading its model)
//   warm-up 3d; prescale quantiles 0.5,0.8,0.9,0.95,0.99; HPA targets 1,0.9,0.8,0.7,0.6,0.5
//   prescale@auto: objective 0.5%, quantile and headroom Auto (issue 13), in the same simulate run
//   both delays of a trace in one simulate process (--startup-delay 2m,10m: the forecasts made once)
//   backtest: horizon 30m, 24 folds, warm-up 3d, history 7d, models seasonal-naive, holt-winters, linear
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { autoPoint, bestQuantilePoint, capacityOf, spanOf, flag, fmt as f, hasFlag, isQuantileRun, median, pool, prescale, resultsDir, root } from './lib.mjs';

const traceDir = resolve(root, flag('--traces', '../shared/data/traces/dev'));
const jobs = Number(flag('--jobs', String(Math.max(1, cpus().length))));
const model = flag('--model', 'holt-winters');
const only = flag('--only', '');
const DELAYS = ['2m', '10m'];
// A partial run must not overwrite the full run's results.
const outDir = resolve(flag('--out', only ? join(tmpdir(), 'prescale-bench') : resultsDir));
const resultsFile = outDir === resultsDir ? join(root, 'bench', 'RESULTS.md') : join(outDir, 'RESULTS.md');
/** Issue 13's targets for prescale@auto, per start-up delay. */
const AUTO_TARGETS = { medianUnderAtCost: { '2m': 0.5, '10m': 0.7 }, maxTracesWorseThanHpa: 3, medianScaleEventsRatio: 1.5 };






async function main() {
  if (hasFlag('--report-only')) {
    // Rewrites RESULTS.md from the last run's evaluate.json (e.g. after editing the text).
    const rows = JSON.parse(await readFile(join(outDir, 'evaluate.json'), 'utf8'));
    const previous = await readFile(resultsFile, 'utf8').catch(() => '');
    const wall = Number(/wall time (\d+) s/.exec(previous)?.[1] ?? 0);
    // The machine and date of the run that measured evaluate.json, not of this rewrite.
    const machine = /^Machine: .*$/m.exec(previous)?.[0];
    await writeFile(resultsFile, report(rows, wall, machine));
    return;
  }
  const files = (await readdir(traceDir)).filter((n) => n.endsWith('.csv') && n.includes(only)).sort();
  await mkdir(outDir, { recursive: true });
  const tasks = [];
  const simulations = [];
  const rows = [];
  const partialFile = join(outDir, 'evaluate.partial.json');
  const done = new Map(hasFlag('--resume') && existsSync(partialFile) ? JSON.parse(readFileSync(partialFile, 'utf8')).map((r) => [r.trace, r]) : []);
  let saving = Promise.resolve();
  const saved = () => (saving = saving.then(() => writeFile(partialFile, JSON.stringify(rows, null, 1))));
  for (const name of files) {
    const file = join(traceDir, name);
    const capacity = await capacityOf(file);
    const previous = done.get(name);
    const row = previous && previous.capacity === capacity ? previous : { trace: name, capacity, backtest: null, simulate: {} };
    rows.push(row);
    if (!(capacity > 0)) {
      row.skipped = 'its 95th percentile is 0';
      continue;
    }
    if (!row.backtest && !row.backtestError) tasks.push(async () => {
      try {
        const r = await prescale(['backtest', '--trace', file, '--horizon', '30m', '--folds', '24', '--warmup', '3d']);
        row.backtest = r.json;
        row.backtestSeconds = r.seconds;
      } catch (err) {
        row.backtestError = String(err.stderr || err.message).trim().split('\n').pop();
      }
      process.stderr.write(`backtest ${name} done\n`);
      await saved();
    });
    // Both delays in one simulate run: the model's forecasts do not depend on the delay, so they are
    // made once for both (simulateAtDelays); each delay's result is what a run at it alone gives.
    const missing = DELAYS.filter((delay) => !(row.simulate[delay] && !row.simulate[delay].error));
    if (missing.length > 0) {
      simulations.push({
        cost: await spanOf(file),
        run: async () => {
          try {
            const r = await prescale([
              'simulate', '--trace', file, '--capacity-per-replica', String(capacity), '--startup-delay', missing.join(','),
              '--metric-lag', '1m', '--model', model, '--warmup', '3d',
            ]);
            const outputs = missing.length === 1 ? [r.json] : r.json;
            missing.forEach((delay, i) => (row.simulate[delay] = { ...outputs[i], seconds: r.seconds, delaysInRun: missing.length }));
          } catch (err) {
            for (const delay of missing) row.simulate[delay] = { error: String(err.stderr || err.message).trim().split('\n').pop() };
          }
          process.stderr.write(`simulate ${name} ${missing.join(',')} done\n`);
          await saved();
        },
      });
    }
  }
  // The longest traces first, so that no long run starts last and runs alone.
  tasks.push(...simulations.sort((a, b) => b.cost - a.cost).map((x) => x.run));
  const started = Date.now();
  await pool(tasks, jobs);
  const wallSeconds = (Date.now() - started) / 1000;
  await writeFile(join(outDir, 'evaluate.json'), JSON.stringify(rows, null, 1));
  await writeFile(resultsFile, report(rows, wallSeconds));
  process.stderr.write(`wrote ${resultsFile} and ${join(outDir, 'evaluate.json')} in ${wallSeconds.toFixed(0)} s\n`);
}

/** The hindsight-best quantile run of a trace (chosen after seeing its whole score), or null. */
const bestPoint = bestQuantilePoint;

function report(rows, wallSeconds, machineLine) {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [];
  lines.push('# Benchmark results: prescale vs the best-tuned HPA on real traces');
  lines.push('');
  lines.push(`Command: \`npm run build && node bench/evaluate.mjs --model ${model}${only ? ` --only ${only}` : ''}\` (wall time ${Math.round(wallSeconds)} s, ${jobs} jobs).`);
  if (only) lines.push(`**Partial run** (\`--only ${only}\`): ${rows.length} trace${rows.length === 1 ? '' : 's'}; the medians and counts below are over these only.`);
  lines.push(machineLine ?? `Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Generated ${new Date().toISOString()}.`);
  lines.push('');
  lines.push('Settings, the same for every trace: capacity per replica = the trace\'s 95th percentile / 10; metric lag 1m;');
  lines.push('start-up delays 2m (web service) and 10m (model server); warm-up 3d (simulated, not scored);');
  lines.push(`prescale model ${model}, quantiles 0.5, 0.8, 0.9, 0.95, 0.99, lead time = start-up delay, other settings the CRD defaults`);
  lines.push('(interval 30s, headroom 10%, tolerance 10%, reactive floor, 5m scale-down stabilization); HPA targets 1 … 0.5 with the default behaviour.');
  lines.push('prescale@auto: one more prescale run with `scaling.objective: {maxUnderProvisioned: 0.5%}` (quantile and headroom Auto):');
  lines.push('q0.9 +10% until its first plan, replanned (src/planner/replan.ts, the 24-plan grid) as soon as it has observed 1 day,');
  lines.push('then every 24 h, on the last 7 days it could have observed, as the operator does.');
  lines.push('`under@cost` = prescale\'s under-provisioned minutes / the HPA frontier\'s at the same replica-minutes;');
  lines.push('`cost@under` = prescale\'s replica-minutes / what the HPA frontier needs for the same under-provisioned minutes.');
  lines.push('Below 1 is better than the best-tuned HPA; — where the point lies outside the HPA frontier\'s range.');
  lines.push('**Hindsight** marks the best quantile of each trace picked after seeing its whole score: no scaler can choose it');
  lines.push('in advance. prescale@auto is what planning ahead of time gives; q0.9 is the default.');
  lines.push('');

  lines.push('## Summary (medians across traces)');
  lines.push('');
  lines.push('| start-up delay | traces with a comparable point | median hindsight-best under@cost | median cost@under at q0.9 | traces where the hindsight-best point < 1 |');
  lines.push('|---|---|---|---|---|');
  for (const delay of DELAYS) {
    const sims = rows.map((r) => r.simulate[delay]).filter((s) => s && !s.error);
    const best = sims.map(bestPoint).filter(Boolean).map((p) => p.underRatioAtEqualCost);
    const q9 = sims.map((s) => s.summary.find((x) => x.policy === 'prescale@q0.9')?.costRatioAtEqualUnder ?? null);
    lines.push(`| ${delay} | ${best.length} of ${sims.length} | ${f(median(best))} | ${f(median(q9))} | ${best.filter((x) => x < 1).length} |`);
  }
  lines.push('');
  lines.push(...autoSection(rows));
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
    const shared = rows.some((r) => r.simulate?.[delay]?.delaysInRun > 1);
    lines.push(`| trace | capacity | oracle replica-min | HPA frontier (target: replica-min / under-min) | prescale (q: replica-min / under-min / under@cost / cost@under) | hindsight-best under@cost | s (${shared ? 'the simulate run of both delays' : 'whole simulate run'}) |`);
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
        .filter((x) => isQuantileRun(x.policy))
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
  lines.push('| trace | delay | hindsight-best under@cost | cheapest prescale / dearest HPA replica-min | scale events prescale@q0.9 / hpa@0.8 | backtest MASE holt-winters / seasonal-naive |');
  lines.push('|---|---|---|---|---|---|');
  for (const delay of DELAYS) {
    for (const r of rows) {
      const s = r.simulate[delay];
      if (!s || s.error) continue;
      const best = bestPoint(s);
      if (best && best.underRatioAtEqualCost < 1) continue;
      const pre = s.policies.filter((p) => isQuantileRun(p.name));
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
  // Sections written by the other benches (bench/ensemble.mjs, lstm-cost.mjs, training-lag.mjs, scale.mjs,
  // planner-cost.mjs) or by hand from a test's output (hostile-prometheus.md, demo.md).
  for (const section of ['planner.md', 'references.md', 'references-ensemble.md', 'ensemble-simulate.md', 'ensemble-delays.md', 'ensemble-refit.md', 'ensemble-windows.md', 'mstl.md', 'cold-start.md', 'combination.md', 'lstm-cost.md', 'ensemble-cost.md', 'ensemble.md', 'training-lag.md', 'scale.md', 'scale-plan.md', 'hostile-prometheus.md', 'demo.md', 'publishing.md']) {
    const path = join(resultsDir, section);
    if (existsSync(path)) lines.push('', readFileSync(path, 'utf8').trim());
  }
  return lines.join('\n') + '\n';
}

/** The prescale@auto section: its point against the HPA frontier, next to the hindsight-best quantile and q0.9. */
function autoSection(rows) {
  const lines = [];
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? '**met**' : '**missed**');
  lines.push('## prescale@auto: planning to the objective 0.5% (issue 13)');
  lines.push('');
  lines.push('One run per trace and delay, planned ahead of time (no hindsight). `worse than HPA` counts traces where its');
  lines.push('under@cost is > 1; `objective met` counts traces whose evaluated part (after the 3-day warm-up) had at most 0.5%');
  lines.push('of minutes under-provisioned; `events / HPA` is its scale events over those of the HPA run closest to it in');
  lines.push('replica-minutes (churn at about equal cost). The hindsight-best quantile and q0.9 are shown for comparison only.');
  lines.push('');
  lines.push('| start-up delay | traces with prescale@auto | median under@cost: prescale@auto | median under@cost: hindsight-best quantile | median under@cost: q0.9 (default) | auto worse than HPA (> 1) | auto outside the frontier (—) | objective met | median events / HPA closest in cost |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const targets = [];
  for (const delay of DELAYS) {
    const sims = rows.map((r) => r.simulate[delay]).filter((s) => s && !s.error);
    const autos = sims.map(autoPoint).filter(Boolean);
    const under = autos.map((a) => a.underRatioAtEqualCost);
    const worse = under.filter((x) => x !== null && x > 1).length;
    const outside = under.filter((x) => x === null).length;
    const met = autos.filter((a) => a.objectiveMet).length;
    const events = median(autos.map((a) => a.scaleEventsRatio));
    const best = median(sims.map(bestPoint).map((p) => p?.underRatioAtEqualCost ?? null));
    const q9 = median(sims.map((s) => s.summary.find((x) => x.policy === 'prescale@q0.9')?.underRatioAtEqualCost ?? null));
    const medianUnder = median(under);
    lines.push(`| ${delay} | ${autos.length} of ${sims.length} | ${f(medianUnder)} | ${f(best)} (hindsight) | ${f(q9)} | ${worse} | ${outside} | ${met} of ${autos.length} | ${f(events)} |`);
    const has = autos.length > 0;
    targets.push(
      `| median under@cost of prescale@auto <= ${AUTO_TARGETS.medianUnderAtCost[delay]} (${delay}) | ${f(medianUnder)} | ${verdict(has && medianUnder !== null ? medianUnder <= AUTO_TARGETS.medianUnderAtCost[delay] : null)} |`,
      `| worse than the HPA (> 1) on at most ${AUTO_TARGETS.maxTracesWorseThanHpa} traces (${delay}) | ${worse} of ${autos.length}${outside ? ` (${outside} outside the frontier, not counted)` : ''} | ${verdict(has ? worse <= AUTO_TARGETS.maxTracesWorseThanHpa : null)} |`,
      `| median scale events <= ${AUTO_TARGETS.medianScaleEventsRatio} × the HPA run closest in cost (${delay}) | ${f(events)} | ${verdict(has && events !== null ? events <= AUTO_TARGETS.medianScaleEventsRatio : null)} |`,
    );
  }
  lines.push('');
  // A point outside the frontier is not in any median above: say what those runs bought and paid.
  for (const delay of DELAYS) {
    const outside = rows
      .map((r) => r.simulate[delay])
      .filter((s) => s && !s.error && autoPoint(s) && autoPoint(s).underRatioAtEqualCost === null)
      .map((s) => {
        const auto = s.policies.find((p) => p.name === 'prescale@auto');
        const dearest = s.policies.filter((p) => p.name.startsWith('hpa@')).reduce((a, b) => (b.replicaMinutes > a.replicaMinutes ? b : a));
        return { cost: auto.replicaMinutes / dearest.replicaMinutes, under: auto.underProvisionedMinutes / Math.max(1e-9, dearest.underProvisionedMinutes) };
      });
    if (outside.length === 0) continue;
    const range = (xs) => `${f(Math.min(...xs))} … ${f(Math.max(...xs))} (median ${f(median(xs))})`;
    lines.push(
      `Outside the frontier at ${delay} (${outside.length} traces): prescale@auto spent more than the HPA's dearest setting of the sweep (hpa@0.5) planning for ` +
        `the objective, ${range(outside.map((o) => o.cost))} × its replica-minutes, for ${range(outside.map((o) => o.under))} × its under-provisioned minutes. ` +
        'No HPA target of the sweep reaches that service level, so these points have no equal-cost comparison and are left out of the medians above.',
    );
    lines.push('');
  }
  lines.push('Targets stated by issue 13:');
  lines.push('');
  lines.push('| target | measured | |');
  lines.push('|---|---|---|');
  lines.push(...targets);
  lines.push('');
  for (const delay of DELAYS) {
    lines.push(`### prescale@auto per trace, start-up delay ${delay}`);
    lines.push('');
    lines.push('| trace | under@cost: prescale@auto | under@cost: hindsight-best quantile | under@cost: q0.9 | under-provisioned (evaluated) vs 0.5% | plans (evaluated part: count, most chosen) | scale events: auto / HPA closest in cost | ratio |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const s = r.simulate[delay];
      if (!s || s.error) {
        lines.push(`| ${r.trace} | ${s?.error ? `error: ${s.error}` : `skipped: ${r.skipped ?? 'not run'}`} | | | | | | |`);
        continue;
      }
      const a = autoPoint(s);
      if (!a) {
        lines.push(`| ${r.trace} | not run | | | | | | |`);
        continue;
      }
      const best = bestPoint(s);
      const q9 = s.summary.find((x) => x.policy === 'prescale@q0.9')?.underRatioAtEqualCost ?? null;
      const evaluated = a.plans.filter((p) => p.evaluated);
      const counts = new Map();
      for (const p of evaluated) {
        const label = `q${p.quantile} +${Number((p.headroom * 100).toPrecision(3))}%`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      const top = [...counts.entries()].sort((x, y) => y[1] - x[1])[0];
      const missedInReplay = evaluated.filter((p) => !p.met).length;
      const plans = `${evaluated.length}${top ? `, ${top[0]} ×${top[1]}` : ''}${missedInReplay ? `, ${missedInReplay} missed in replay` : ''}`;
      const under = `${f(a.result.underProvisionedFraction * 100)}%: ${a.objectiveMet ? 'met' : '**missed**'}`;
      const hpa = a.hpaClosest ? `${a.result.scaleEvents} / ${a.hpaClosest.scaleEvents} (${a.hpaClosest.policy})` : `${a.result.scaleEvents} / —`;
      lines.push(
        `| ${r.trace} | ${f(a.underRatioAtEqualCost)} | ${best ? `${f(best.underRatioAtEqualCost)} (${best.policy.slice(9)}, hindsight)` : '—'} | ${f(q9)} | ${under} | ${plans} | ${hpa} | ${f(a.scaleEventsRatio)} |`,
      );
    }
    lines.push('');
  }
  return lines;
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
