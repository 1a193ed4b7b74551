#!/usr/bin/env node
// What one Ensemble fit costs on 7 days of 1-minute history on the WebAssembly backend, and where
// the time goes: each member's fit before the validation folds, its walk through the folds, the
// statistical members' refit on the whole history, the LSTM's update to it, and predict(). The
// Ensemble is built as the operator builds it (registry.createForecaster('Ensemble',
// { seasonality: 'Auto', horizonSteps: 30 })); the data are bench/lstm-cost's three true 1-minute
// weeks. bench/lstm-cost.mjs --ensemble runs it and puts its figures in bench/results/lstm-cost.md
// and .json; run alone, it prints the Markdown and writes the JSON to --out if given.
//
//   node bench/ensemble-cost.mjs --compare old=/tmp/lstm-old/dist,new=/tmp/lstm-new/dist [--raw ../shared/data/traces/raw] [--repeats 1] [--out file.json]
//        [--simulate] [--simulate-trace ../shared/data/traces/dev/bitbrains-2013-total-cpu.csv]
//
// --simulate also times each build's `simulate --model ensemble` over the last 21 days of a trace,
// with the arguments of bench/ensemble.mjs's cost section (the issue's other target: < 2 min).
//
// Each fit runs in a fresh child process, one after another, builds alternating trace by trace.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { capacityOf, flag, fmt as f, root, run } from './lib.mjs';
import { ALIBABA_COLUMNS, alibabaWeek } from './lstm-cost/trace.mjs';

const MARKER = 'ENSEMBLE_COST_RESULT ';
const QUANTILES = [0.5, 0.8, 0.9, 0.95, 0.99];
const TARGET_SECONDS = 3;

const cpuSeconds = ({ user, system }) => (user + system) / 1e6;

/** In the child: one Ensemble fit with every member call timed. */
async function measure(dist, column, rawDir) {
  const load = (path) => import(pathToFileURL(join(dist, path)).href);
  const { selectBackend } = await load('forecast/tf/backend.js');
  const { name } = await selectBackend({ prefer: 'wasm' });
  if (name !== 'wasm') throw new Error(`asked for wasm, got ${name}`);
  const { createForecaster } = await load('forecast/registry.js');
  const { EnsembleForecaster } = await load('forecast/ensemble.js');
  const classes = {
    LSTM: (await load('forecast/lstm.js')).LstmForecaster,
    HoltWinters: (await load('forecast/holtWinters.js')).HoltWintersForecaster,
    SeasonalNaive: (await load('forecast/seasonalNaive.js')).SeasonalNaiveForecaster,
    Linear: (await load('forecast/linear.js')).LinearForecaster,
  };
  // Phase: 'validation' inside EnsembleForecaster.validate (the fit before the first fold and the
  // walk through the folds), 'origin' after it (the refit or update to the whole history).
  let phase = 'other';
  const calls = {};
  let lstmFit;
  for (const [member, C] of Object.entries(classes)) {
    for (const method of ['fit', 'update', 'predict', 'exportState', 'importState']) {
      const original = C.prototype[method];
      C.prototype[method] = function timed(...args) {
        const t = performance.now();
        const c = process.cpuUsage();
        try {
          return original.apply(this, args);
        } finally {
          const key = `${member}.${method}.${phase}`;
          const entry = (calls[key] ??= { calls: 0, seconds: 0, cpuSeconds: 0 });
          entry.calls++;
          entry.seconds += (performance.now() - t) / 1000;
          entry.cpuSeconds += cpuSeconds(process.cpuUsage(c));
          if (member === 'LSTM' && method === 'fit') lstmFit = this.describe();
        }
      };
    }
  }
  const validate = EnsembleForecaster.prototype.validate;
  EnsembleForecaster.prototype.validate = function timed(...args) {
    phase = 'validation';
    try {
      return validate.apply(this, args);
    } finally {
      phase = 'origin';
    }
  };
  const trace = await alibabaWeek(rawDir, column);
  const ensemble = createForecaster('Ensemble', { seasonality: 'Auto', horizonSteps: 30 });
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  ensemble.fit(trace.series);
  const fitSeconds = (performance.now() - started) / 1000;
  const fitCpuSeconds = cpuSeconds(process.cpuUsage(cpuStarted));
  phase = 'predict';
  const predictMs = [];
  for (let i = 0; i < 13; i++) {
    const t = performance.now();
    ensemble.predict(30, QUANTILES);
    if (i >= 3) predictMs.push(performance.now() - t);
  }
  predictMs.sort((a, b) => a - b);
  const cold = { fitSeconds, fitCpuSeconds, calls: structuredClone(calls), lstmFit };
  // The same fit again in the same process, by a fresh Ensemble (no state to warm-start from): what
  // a long-lived training worker pays once its code is compiled and the backend warmed up.
  for (const key of Object.keys(calls)) delete calls[key];
  phase = 'other';
  const again = createForecaster('Ensemble', { seasonality: 'Auto', horizonSteps: 30 });
  const warmStarted = performance.now();
  const warmCpu = process.cpuUsage();
  again.fit(trace.series);
  const warm = { fitSeconds: (performance.now() - warmStarted) / 1000, fitCpuSeconds: cpuSeconds(process.cpuUsage(warmCpu)), calls: structuredClone(calls), lstmFit };
  return { trace: trace.name, points: trace.series.values.length, ...cold, warm, lstmSplit: await lstmSplit(load, lstmFit), predictMedianMs: predictMs[Math.floor(predictMs.length / 2)], describe: ensemble.describe() };
}

/**
 * The LSTM fit's training steps and validation passes, from one step and one pass of the same
 * sizes timed here (CPU): steps = epochs × ceil(windows / 64), passes = epochs + 2 over the
 * validation windows (tf/train.ts). Only for the raw-op network (tf/network.js LstmNetwork).
 */
async function lstmSplit(load, d) {
  const network = await load('forecast/tf/network.js');
  const training = await load('forecast/tf/train.js');
  if (!network.LstmNetwork || !training.trainingStep || !d?.epochs) return null;
  const tf = await import('@tensorflow/tfjs');
  const shape = { windowSteps: d.windowSteps, horizonSteps: d.horizonSteps, seasonSteps: d.seasonSteps };
  const batch = (count, seed) => {
    const normal = (n, s) => Float32Array.from(tf.randomNormal([n], 0, 1, 'float32', s).dataSync());
    return { count, sequence: normal(count * d.windowSteps * 6, seed), offsets: normal(count * d.horizonSteps, seed + 1), targets: normal(count * d.horizonSteps, seed + 2) };
  };
  const net = network.LstmNetwork.create(shape, { units: d.units, seed: 42 });
  const optimizer = tf.train.adam(0.01);
  const examples = batch(d.trainingWindows, 3);
  const validation = batch(d.validationWindows, 7);
  const indices = Array.from({ length: 64 }, (_, i) => i);
  const timeCpu = (fn, n) => {
    for (let i = 0; i < 2; i++) fn();
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    return cpuSeconds(process.cpuUsage(c)) / n;
  };
  const step = timeCpu(() => training.trainingStep(net, optimizer, examples, indices, 'mae'), 20);
  const pass = timeCpu(() => training.batchLoss(net, validation, 'mae'), 5);
  optimizer.dispose();
  net.dispose();
  const steps = d.epochs * Math.ceil(d.trainingWindows / 64);
  const passes = d.epochs + 2;
  return { stepCpuSeconds: step, validationPassCpuSeconds: pass, steps, passes, trainingCpuSeconds: steps * step, validationCpuSeconds: passes * pass };
}

/** Member rows of the breakdown: seconds (CPU) per member and phase. */
function breakdown(result) {
  const rows = [];
  const sum = (keys) => keys.reduce((acc, k) => ({ seconds: acc.seconds + (result.calls[k]?.seconds ?? 0), cpuSeconds: acc.cpuSeconds + (result.calls[k]?.cpuSeconds ?? 0) }), { seconds: 0, cpuSeconds: 0 });
  for (const member of ['LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear']) {
    rows.push({ member, part: 'fit before the folds', ...sum([`${member}.fit.validation`, `${member}.importState.validation`]) });
    rows.push({ member, part: 'walk through the folds (update, predict)', ...sum([`${member}.update.validation`, `${member}.predict.validation`]) });
    rows.push({ member, part: member === 'LSTM' ? 'update to the whole history' : 'refit on the whole history', ...sum([`${member}.fit.origin`, `${member}.update.origin`]) });
  }
  const members = rows.reduce((acc, r) => ({ seconds: acc.seconds + r.seconds, cpuSeconds: acc.cpuSeconds + r.cpuSeconds }), { seconds: 0, cpuSeconds: 0 });
  rows.push({ member: 'Ensemble', part: 'the rest (folds, scores, weights)', seconds: result.fitSeconds - members.seconds, cpuSeconds: result.fitCpuSeconds - members.cpuSeconds });
  return rows;
}

export function ensembleMarkdown(result) {
  const lines = [];
  lines.push(`Command: \`${result.command}\` (wall time ${Math.round(result.wallSeconds)} s). Generated ${result.generatedAt}. Machine: ${result.machine.cores} cores, shared (load average ${result.machine.loadAverageBefore.map((x) => x.toFixed(1)).join(' / ')} at the start, ${result.machine.loadAverageAfter.map((x) => x.toFixed(1)).join(' / ')} at the end), Node ${result.machine.node}, wasm backend.`);
  lines.push('');
  lines.push(`First fit in a fresh process (cold: compiling the kernels' JavaScript, warming the backend up), then the same fit again in that process by a fresh Ensemble (warm: what a long-lived training worker pays; no state to warm-start from). Seconds wall (CPU):`);
  lines.push('');
  lines.push(`| trace | build | Ensemble fit, cold | of which the LSTM fit before the folds | Ensemble fit, warm | of which the LSTM | LSTM epochs (best) | statistical members (cold) | LSTM weight | predict(30) ms | target < ${TARGET_SECONDS} s (cold / warm, wall) |`);
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of result.runs) {
    const rows = breakdown(r);
    const lstm = rows.find((x) => x.member === 'LSTM' && x.part === 'fit before the folds');
    const statistical = rows.filter((x) => x.member !== 'LSTM' && x.member !== 'Ensemble').reduce((acc, x) => acc + x.seconds, 0);
    const weight = r.describe.members.find((m) => m.name === 'LSTM')?.weight ?? 0;
    const warm = r.warm;
    const warmLstm = warm ? breakdown({ ...r, ...warm }).find((x) => x.member === 'LSTM' && x.part === 'fit before the folds') : undefined;
    const verdict = (s) => (s === undefined ? '—' : s < TARGET_SECONDS ? 'pass' : '**FAIL**');
    lines.push(`| ${r.trace} | ${r.build} | ${f(r.fitSeconds)} (${f(r.fitCpuSeconds)}) | ${f(lstm.seconds)} (${f(lstm.cpuSeconds)}) | ${warm ? `${f(warm.fitSeconds)} (${f(warm.fitCpuSeconds)})` : '—'} | ${warmLstm ? `${f(warmLstm.seconds)} (${f(warmLstm.cpuSeconds)})` : '—'} | ${r.lstmFit?.epochs} (${r.lstmFit?.bestEpoch}) | ${f(statistical)} | ${f(weight, 2)} | ${f(r.predictMedianMs)} | ${verdict(r.fitSeconds)} / ${verdict(warm?.fitSeconds)} |`);
  }
  lines.push('');
  const last = result.runs.filter((r) => r.build === result.builds[result.builds.length - 1].label);
  lines.push(`Where the time goes, ${last[0]?.build} build (wall s, CPU s in brackets):`);
  lines.push('');
  lines.push(`| member | part | ${last.map((r) => r.trace).join(' | ')} |`);
  lines.push(`|---|---|${last.map(() => '---').join('|')}|`);
  const tables = last.map(breakdown);
  tables[0]?.forEach((row, k) => lines.push(`| ${row.member} | ${row.part} | ${tables.map((t) => `${f(t[k].seconds)} (${f(t[k].cpuSeconds)})`).join(' | ')} |`));
  lines.push(`| Ensemble | predict(30) (median of 10, ms) | ${last.map((r) => f(r.predictMedianMs)).join(' | ')} |`);
  lines.push('');
  if (result.simulate) {
    const sim = result.simulate;
    lines.push(`\`simulate --model ensemble\` over the last 21 days of ${sim.trace.split('/').pop()} (${sim.sourcePoints} source points, interpolated to 1 minute by the command; \`${sim.args.join(' ')}\`), target < ${sim.targetSeconds} s:`);
    lines.push('');
    lines.push('| build | wall s | model activity (from its stderr) | target |');
    lines.push('|---|---|---|---|');
    for (const r of sim.runs) lines.push(`| ${r.build} | ${f(r.seconds)} | ${r.activity} | ${r.seconds < sim.targetSeconds ? 'pass' : '**FAIL**'} |`);
    lines.push('');
  }
  const splits = last.filter((r) => r.lstmSplit);
  if (splits.length > 0) {
    lines.push('The LSTM fit before the folds, split from one training step and one validation pass of the same sizes timed in the same process (CPU s): ' + splits.map((r) => `${r.trace}: ${r.lstmSplit.steps} steps × ${f(r.lstmSplit.stepCpuSeconds * 1e3)} ms = ${f(r.lstmSplit.trainingCpuSeconds)} s, ${r.lstmSplit.passes} validation passes × ${f(r.lstmSplit.validationPassCpuSeconds * 1e3)} ms = ${f(r.lstmSplit.validationCpuSeconds)} s, of ${f(breakdown(r).find((x) => x.member === 'LSTM').cpuSeconds)} s`).join('; ') + '.');
    lines.push('');
  }
  return lines.join('\n');
}

const SIMULATE_TARGET_SECONDS = 120;

/** The last 21 days of a trace as a CSV of its own (as bench/ensemble.mjs cuts it). */
async function last21Days(file) {
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  const rows = lines.slice(1);
  const end = Date.parse(rows.at(-1).split(',')[0]);
  const kept = rows.filter((l) => Date.parse(l.split(',')[0]) > end - 21 * 86_400_000);
  const out = join(await mkdtemp(join(tmpdir(), 'prescale-ensemble-cost-')), '21d.csv');
  await writeFile(out, [lines[0], ...kept].join('\n') + '\n');
  return { out, points: kept.length };
}

/** Each build's `simulate --model ensemble` over 21 days: wall time and the model activity it reports. */
export async function measureSimulations(builds, traceFile) {
  const { out, points } = await last21Days(traceFile);
  const capacity = await capacityOf(out);
  const args = ['simulate', '--trace', out, '--capacity-per-replica', String(capacity), '--startup-delay', '2m', '--metric-lag', '1m', '--model', 'ensemble', '--warmup', '3d', '--policies', 'prescale,hpa,oracle', '--json'];
  const runs = [];
  for (const build of builds) {
    const started = process.hrtime.bigint();
    const { stderr } = await run('node', [join(build.dist, 'cli/main.js'), ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60 * 60_000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const activity = (stderr.split('\n').find((l) => l.includes('prescale models:')) ?? '').replace(/^.*prescale models: /, '');
    runs.push({ build: build.label, seconds, activity });
    process.stderr.write(`simulate ${build.label}: ${seconds.toFixed(0)} s (${activity})\n`);
  }
  return { trace: traceFile, sourcePoints: points, args: args.map((a) => (a === out ? '<last 21 days>' : a)), targetSeconds: SIMULATE_TARGET_SECONDS, loadAverageAfter: loadavg(), runs };
}

/** Every build's Ensemble fit on every trace, `repeats` times; builds alternate trace by trace. */
export async function measureEnsembles(builds, rawDir, repeats = 1, simulateTrace = undefined) {
  const started = Date.now();
  const machine = { cores: cpus().length, node: process.version, loadAverageBefore: loadavg() };
  const runs = [];
  for (let k = 0; k < repeats; k++) {
    for (const column of ALIBABA_COLUMNS) {
      for (const build of builds) {
        const { stdout } = await run('node', [fileURLToPath(import.meta.url), 'child', build.dist, column, rawDir], { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 });
        const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
        const result = { build: build.label, ...JSON.parse(line.slice(MARKER.length)) };
        runs.push(result);
        process.stderr.write(`ensemble ${build.label} ${column}: fit ${result.fitSeconds.toFixed(2)} s (${result.fitCpuSeconds.toFixed(2)} s CPU), warm ${result.warm.fitSeconds.toFixed(2)} s (${result.warm.fitCpuSeconds.toFixed(2)} s CPU)\n`);
      }
    }
  }
  const simulate = simulateTrace ? await measureSimulations(builds, simulateTrace) : undefined;
  machine.loadAverageAfter = loadavg();
  return { simulate, generatedAt: new Date().toISOString(), command: ['node bench/ensemble-cost.mjs', ...process.argv.slice(2)].join(' '), wallSeconds: (Date.now() - started) / 1000, machine, builds, targetSeconds: TARGET_SECONDS, runs };
}

async function main() {
  if (process.argv[2] === 'child') {
    const [, , , dist, column, rawDir] = process.argv;
    const result = await measure(resolve(dist), column, resolve(rawDir));
    process.stdout.write(`\n${MARKER}${JSON.stringify(result)}\n`);
    return;
  }
  const rawDir = resolve(root, flag('--raw', '../shared/data/traces/raw'));
  const builds = flag('--compare', `build=${join(root, 'dist')}`).split(',').map((pair) => ({ label: pair.slice(0, pair.indexOf('=')), dist: resolve(root, pair.slice(pair.indexOf('=') + 1)) }));
  const simulateTrace = process.argv.includes('--simulate') ? resolve(root, flag('--simulate-trace', '../shared/data/traces/dev/bitbrains-2013-total-cpu.csv')) : undefined;
  const result = await measureEnsembles(builds, rawDir, Number(flag('--repeats', '1')), simulateTrace);
  const out = flag('--out', '');
  if (out) await writeFile(resolve(out), JSON.stringify(result, null, 1));
  process.stdout.write(`${ensembleMarkdown(result)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  });
}
