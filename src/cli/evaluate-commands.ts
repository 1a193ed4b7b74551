// `prescale backtest` and `prescale simulate` (SPEC section 6).
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_MAX_UNDER_PROVISIONED, DEFAULTS } from '../api/config.js';
import { MAX_INTERVAL_MS, MAX_LEAD_TIME_MS, MAX_UNDER_PROVISIONED_PERCENT, MIN_INTERVAL_MS } from '../api/limits.js';
import { formatDuration, parseDuration, parsePercent } from '../api/units.js';
import { selectBackend } from '../forecast/tf/backend.js';
import { DEFAULT_BACKTEST_LEAD_TIMES, DEFAULT_BACKTEST_MODELS, runBacktest, type BacktestOutput } from '../evaluate/backtest-run.js';
import { parseModelName } from '../evaluate/models.js';
import { renderBacktestReport, renderSimulationReport } from '../report/render.js';
import { AUTO_POLICY_NAME } from '../simulate/auto-policy.js';
import { POLICY_KINDS, simulateAtDelays, type PolicyKind } from '../simulate/simulate.js';
import type { SimulationOutput } from '../simulate/types.js';
import { loadTrace } from '../traces/csv.js';
import { boundedDuration, duration, durationList, numberList, positiveNumber, wholeNumber } from './options.js';

/** `simulate --startup-delay`: each delay adds a set of runs to the one simulation. */
const MAX_SIMULATED_DELAYS = 8;
/** A start-up delay longer than a day is no workload this simulates. */
const MAX_STARTUP_DELAY_MS = 24 * 3_600_000;

/** The most lead times one backtest scores: each adds a table row per model. */
export const MAX_BACKTEST_LEAD_TIMES = 8;

/** A progress line on stderr, only when stderr is a terminal. */
function progress(label: string): ((fraction: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = -1;
  return (fraction) => {
    const pct = Math.floor(fraction * 100);
    if (pct === last) return;
    last = pct;
    process.stderr.write(`\r${label} ${pct}%${pct >= 100 ? '\n' : ''}`);
  };
}

/** Notes about the data (gaps, resampling, model fallbacks) go to stderr, also with --json. */
/** Whether a --models/--model value names a model that runs on TensorFlow.js. */
function usesTensorFlow(models: string): boolean {
  return String(models)
    .split(',')
    .some((m) => ['lstm', 'ensemble'].includes(m.trim().toLowerCase()));
}

function printNotes(notes: string[]): void {
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
}

/** `--objective`: a percentage such as 0.5%, at most the CRD's cap; returns the share (0.005). */
export function objectivePercent(value: string): number {
  let fraction: number;
  try {
    fraction = parsePercent(value);
  } catch {
    throw new InvalidArgumentError(`expected a percentage such as 0.5% (the share of minutes with Ready capacity below demand), got "${value}"`);
  }
  if (fraction * 100 > MAX_UNDER_PROVISIONED_PERCENT) throw new InvalidArgumentError(`must be at most ${MAX_UNDER_PROVISIONED_PERCENT}%, got "${value}"`);
  return fraction;
}

/** `--policies`: prescale (the quantile sweep), auto (prescale@auto, also accepted by that name), hpa, oracle. */
export function parsePolicies(value: string): PolicyKind[] {
  const kinds = String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s === AUTO_POLICY_NAME ? 'auto' : s));
  for (const p of kinds) if (!(POLICY_KINDS as readonly string[]).includes(p)) throw new Error(`--policies: unknown policy "${p}"; use ${POLICY_KINDS.join(', ')}`);
  if (kinds.length === 0) throw new Error(`--policies: name at least one of ${POLICY_KINDS.join(', ')}`);
  return [...new Set(kinds)] as PolicyKind[];
}

const pct = (x: number) => `${Number((x * 100).toPrecision(3))}%`;

const fmt = (x: number | null, digits = 3) => (x === null ? '—' : Number(x.toPrecision(digits)).toString());

/** The text `prescale backtest` prints: the horizon scores, then one row per model and lead time. */
export function formatBacktestTable(output: BacktestOutput): string {
  let text = `trace ${output.trace}, horizon ${output.horizon}\n`;
  text += `${'model'.padEnd(16)}${'MASE'.padStart(8)}${'sMAPE%'.padStart(9)}${'coverage'.padStart(10)}${'fit s'.padStart(9)}${'predict ms'.padStart(12)}\n`;
  for (const m of output.models) {
    text += `${m.name.padEnd(16)}${fmt(m.mase).padStart(8)}${fmt(m.smape).padStart(9)}${fmt(m.coverage).padStart(10)}${fmt(m.fitSeconds, 2).padStart(9)}${fmt(m.predictMillis, 2).padStart(12)}\n`;
  }
  if (!output.models.some((m) => m.windows.length > 0)) return text;
  text += `decision window: q${output.quantile} peak over [now + lead, now + lead + ${output.interval}]; coverage ideal ${output.quantile}\n`;
  text += `${'model'.padEnd(16)}${'lead'.padStart(6)}${'win MASE'.padStart(10)}${'coverage'.padStart(10)}${'over'.padStart(8)}${'under'.padStart(8)}${'folds'.padStart(7)}\n`;
  for (const m of output.models) {
    for (const w of m.windows) {
      text += `${m.name.padEnd(16)}${w.lead.padStart(6)}${fmt(w.mase).padStart(10)}${fmt(w.coverage).padStart(10)}${fmt(w.overForecast).padStart(8)}${fmt(w.underForecast).padStart(8)}${String(w.folds).padStart(7)}\n`;
    }
  }
  return text;
}

export function addEvaluationCommands(program: Command): void {
  program
    .command('backtest')
    .description('rolling-origin backtest of the forecasting models on a trace (CSV: timestamp,value)')
    .requiredOption('--trace <file>', 'the trace, a CSV with a timestamp,value header')
    .addOption(new Option('--horizon <duration>', 'how far ahead each fold forecasts').argParser(duration('--horizon')).default(parseDuration('30m'), '30m'))
    .option('--models <list>', 'comma-separated models', DEFAULT_BACKTEST_MODELS.join(','))
    .addOption(new Option('--warmup <duration>', 'history before the first origin').argParser(duration('--warmup')).default(parseDuration('3d'), '3d'))
    .option('--folds <n>', 'forecast origins, spread evenly after the warm-up', wholeNumber(1), 24)
    .addOption(
      new Option('--history <duration>', 'fit on at most this much history before each origin').argParser(duration('--history')).default(parseDuration('7d'), '7d'),
    )
    .option('--quantile <q>', 'the planning quantile whose coverage is reported', positiveNumber, 0.9)
    .addOption(
      new Option(
        '--lead-times <list>',
        `lead times whose decision windows [now + lead, now + lead + interval] are scored (at most ${MAX_BACKTEST_LEAD_TIMES}, each at most ${formatDuration(MAX_LEAD_TIME_MS)}; ` +
          'forecasts run past the horizon when a window needs it)',
      )
        .argParser(durationList('--lead-times', MAX_BACKTEST_LEAD_TIMES, MAX_LEAD_TIME_MS))
        .default(DEFAULT_BACKTEST_LEAD_TIMES.map(parseDuration), DEFAULT_BACKTEST_LEAD_TIMES.join(',')),
    )
    .addOption(
      new Option('--interval <duration>', "the scaler's interval (spec.interval), the width of each decision window")
        .argParser(boundedDuration('--interval', MIN_INTERVAL_MS, MAX_INTERVAL_MS))
        .default(parseDuration(DEFAULTS.interval), DEFAULTS.interval),
    )
    .option('--json', 'print one JSON object', false)
    .option('--report <file>', 'write an HTML report with plots')
    .action(async (opts) => {
      if (!(opts.quantile < 1)) throw new Error('--quantile must be below 1');
      const backend = await selectBackend();
      const points = await loadTrace(opts.trace);
      const { output, report, notes } = runBacktest({
        traceName: basename(opts.trace),
        points,
        horizonMs: opts.horizon,
        models: String(opts.models).split(',').map((s) => s.trim()).filter(Boolean),
        warmupMs: opts.warmup,
        folds: opts.folds,
        historyMs: opts.history,
        quantile: opts.quantile,
        leadTimesMs: opts.leadTimes,
        intervalMs: opts.interval,
        collectReport: Boolean(opts.report),
      });
      if (report) await writeFile(opts.report, renderBacktestReport(report));
      printNotes(usesTensorFlow(opts.models ?? opts.model) ? [...notes, `TensorFlow.js backend: ${backend.name}`] : notes);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(output)}\n`);
        return;
      }
      process.stdout.write(formatBacktestTable(output));
    });

  program
    .command('simulate')
    .description('replay a trace through prescale (a quantile sweep, and prescale@auto planning to an objective), the HPA and the oracle on a simulated workload, and compare them at equal cost')
    .requiredOption('--trace <file>', 'the trace, a CSV with a timestamp,value header')
    .requiredOption('--capacity-per-replica <n>', 'demand one Ready replica can serve', positiveNumber)
    .option(
      '--startup-delay <durations>',
      'time from requesting a replica to it being Ready; a comma-separated list (e.g. 2m,10m) simulates every delay in one run, the forecasts made once for all, and prints one result per delay',
      durationList('--startup-delay', MAX_SIMULATED_DELAYS, MAX_STARTUP_DELAY_MS),
      [parseDuration('2m')],
    )
    .option('--metric-lag <duration>', 'how old the observations every policy sees are', duration('--metric-lag'), parseDuration('1m'))
    .option(
      '--policies <list>',
      'comma-separated: prescale (one run per --quantiles), auto (prescale@auto: plans quantile and headroom to --objective, replanning daily on the history it has seen), hpa, oracle',
      'prescale,auto,hpa,oracle',
    )
    .addOption(
      new Option('--objective <percent>', "prescale@auto's objective: the share of minutes with Ready capacity below demand it plans to")
        .argParser(objectivePercent)
        .default(DEFAULT_MAX_UNDER_PROVISIONED, '0.5%'),
    )
    .option('--model <name>', 'forecasting model for prescale', 'ensemble')
    .option('--quantiles <list>', 'planning quantiles, one prescale run each', numberList((n) => n > 0 && n < 1, 'numbers in (0, 1)'), [0.5, 0.8, 0.9, 0.95, 0.99])
    .option('--hpa-targets <list>', 'HPA target utilizations, one run each', numberList((n) => n > 0 && n <= 1, 'numbers in (0, 1]'), [1, 0.9, 0.8, 0.7, 0.6, 0.5])
    .option('--warmup <duration>', 'simulated but not scored (models learn from it)', duration('--warmup'), parseDuration('3d'))
    .option('--lead-time <duration>', 'prescale lead time (default: the start-up delay, what leadTime: Auto learns)', duration('--lead-time'))
    .option('--min-replicas <n>', 'lower bound for every policy', wholeNumber(0), 1)
    .option('--max-replicas <n>', 'upper bound for every policy', wholeNumber(1), 1000)
    .option('--json', 'print one JSON object (an array of them, one per start-up delay, for several)', false)
    .option('--report <file>', 'write an HTML report with plots (one start-up delay only)')
    .action(async (opts) => {
      const policies = parsePolicies(opts.policies);
      if (opts.minReplicas > opts.maxReplicas) throw new Error('--min-replicas must not exceed --max-replicas');
      const delays = opts.startupDelay as number[];
      if (opts.report && delays.length > 1) throw new Error('--report shows one start-up delay; pass one --startup-delay');
      const backend = await selectBackend();
      const points = await loadTrace(opts.trace);
      const results = simulateAtDelays({
        traceName: basename(opts.trace),
        points,
        capacityPerReplica: opts.capacityPerReplica,
        startupDelayMs: delays[0]!,
        metricLagMs: opts.metricLag,
        policies,
        model: parseModelName(opts.model),
        quantiles: opts.quantiles,
        hpaTargets: opts.hpaTargets,
        objective: opts.objective,
        warmupMs: opts.warmup,
        leadTimeMs: opts.leadTime,
        minReplicas: opts.minReplicas,
        maxReplicas: opts.maxReplicas,
        collectReport: Boolean(opts.report),
        onProgress: progress(`simulating ${basename(opts.trace)}`),
      }, delays);
      const report = results[0]!.report;
      if (report) await writeFile(opts.report, renderSimulationReport(report));
      // The notes before the per-delay ones (trace, model) are the same for every delay.
      const notes = [...new Set(results.flatMap((r) => r.notes))];
      printNotes(usesTensorFlow(opts.models ?? opts.model) ? [...notes, `TensorFlow.js backend: ${backend.name}`] : notes);
      if (opts.json) {
        const outputs = results.map((r) => r.output);
        process.stdout.write(`${JSON.stringify(outputs.length === 1 ? outputs[0] : outputs)}\n`);
        return;
      }
      results.forEach(({ output }, i) => {
        if (i > 0) process.stdout.write('\n');
        printSimulation(output);
      });
    });
}

function printSimulation(output: SimulationOutput): void {
  process.stdout.write(`trace ${output.trace}: ${output.evaluatedMinutes} minutes scored, capacity ${output.capacityPerReplica}/replica, start-up ${output.startupDelaySeconds}s\n`);
  process.stdout.write(`${'policy'.padEnd(18)}${'under min'.padStart(11)}${'under %'.padStart(9)}${'unserved'.padStart(12)}${'replica-min'.padStart(13)}${'events'.padStart(8)}\n`);
  for (const p of output.policies) {
    process.stdout.write(
      `${p.name.padEnd(18)}${fmt(p.underProvisionedMinutes, 5).padStart(11)}${fmt(p.underProvisionedFraction * 100).padStart(9)}${fmt(p.unservedDemand, 4).padStart(12)}${fmt(p.replicaMinutes, 6).padStart(13)}${String(p.scaleEvents).padStart(8)}\n`,
    );
  }
  process.stdout.write('vs the best-tuned HPA (below 1 is better):\n');
  for (const s of output.summary) {
    process.stdout.write(`  ${s.policy.padEnd(16)} under at equal cost ${fmt(s.underRatioAtEqualCost)}   cost at equal under ${fmt(s.costRatioAtEqualUnder)}\n`);
  }
  const auto = output.auto;
  if (auto) {
    const plans = auto.plans.map((p) => `${p.time.slice(0, 16).replace('T', ' ')} q${p.quantile} +${pct(p.headroom)}${p.met ? '' : ' (missed in replay)'}`);
    process.stdout.write(
      `${auto.policy}: objective ${pct(auto.objective)} ${auto.objectiveMet ? 'met' : 'missed'} (${pct(auto.result.underProvisionedFraction)} under-provisioned); ` +
        `${auto.plans.length} plan${auto.plans.length === 1 ? '' : 's'}${plans.length > 0 ? `: ${plans.length > 6 ? [...plans.slice(0, 3), '…', ...plans.slice(-2)].join(', ') : plans.join(', ')}` : ''}\n`,
    );
    if (auto.hpaClosestInCost) {
      process.stdout.write(`  scale events ${auto.result.scaleEvents} vs ${auto.hpaClosestInCost.scaleEvents} for ${auto.hpaClosestInCost.policy}, the HPA run closest in replica-minutes\n`);
    }
  }
}
