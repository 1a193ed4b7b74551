#!/usr/bin/env node
// What the LSTM forecaster costs to train and to run, per TensorFlow.js backend, against the
// floating-point rate the same backend reaches on this machine. Writes bench/results/lstm-cost.json
// and bench/results/lstm-cost.md.
//
//   npm run build && node bench/lstm-cost.mjs [--dist dist] [--raw ../shared/data/traces/raw] [--calls 25]
//   node bench/lstm-cost.mjs --compare old=/tmp/lstm-old/dist,new=/tmp/lstm-new/dist [--backends wasm,cpu]
//        [--ensemble [--simulate]] [--accuracy-json /tmp/lstm-accuracy.json] [--describe 'old=…;new=…'] [--notes-file notes.md]
//
// --ensemble adds the Ensemble's fit on the same weeks, member by member, for every build
// (bench/ensemble-cost.mjs); --accuracy-json adds a finished run of bench/lstm-cost/accuracy.mjs
// (the LSTM's MASE in each build on the same folds of every dev trace), which takes an hour.
//
// --compare measures several builds side by side (each compiled into its own directory with a
// package.json of {"type":"module"}), trace by trace in turn so that the load from other work on a
// shared machine falls on all of them alike; the first build is the baseline of the comparison.
//
// Every fit runs in a fresh child process (bench/lstm-cost/child.mjs) with one backend selected,
// on the last 7 days of a true 1-minute trace (bench/lstm-cost/trace.mjs), with the options the
// operator uses: horizon 30 steps at 1-minute steps, seasonality Auto, every other option default.
// Children run one after another so they do not compete for the two cores.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { flag, root, run } from './lib.mjs';
import { RESULT_MARKER } from './lstm-cost/child.mjs';
import { FORMULA, trainingFlops } from './lstm-cost/flops.mjs';
import { ALIBABA_COLUMNS } from './lstm-cost/trace.mjs';
import { ensembleMarkdown, measureEnsembles } from './ensemble-cost.mjs';

const dist = resolve(root, flag('--dist', 'dist'));
/** Builds to compare, label=dir; the one --dist build when absent. */
const builds = (flag('--compare', '') || `build=${dist}`).split(',').map((pair) => {
  const at = pair.indexOf('=');
  return at < 0 ? { label: pair, dist: resolve(root, pair) } : { label: pair.slice(0, at), dist: resolve(root, pair.slice(at + 1)) };
});
/** Paragraphs for the report (--notes-file: a text file, paragraphs separated by blank lines). */
const notesFile = flag('--notes-file', '');
/** What each build is, label=text;… (free text for the report). */
const describeBuilds = Object.fromEntries(flag('--describe', '').split(';').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const rawDir = resolve(root, flag('--raw', '../shared/data/traces/raw'));
const calls = Number(flag('--calls', '25'));
const outDir = join(root, 'bench', 'results');
const childScript = join(root, 'bench', 'lstm-cost', 'child.mjs');
const withEnsemble = process.argv.includes('--ensemble');
/** With --ensemble: also each build's 21-day `simulate --model ensemble` (bench/ensemble-cost.mjs). */
const simulateTrace = process.argv.includes('--simulate') ? resolve(root, flag('--simulate-trace', '../shared/data/traces/dev/bitbrains-2013-total-cpu.csv')) : undefined;
const accuracyJson = flag('--accuracy-json', '');
const BACKENDS = flag('--backends', 'tensorflow,wasm,cpu').split(',');
/** LstmOptions defaults the forecaster does not report in describe(). */
const FEATURES_PER_STEP = 6;
const BATCH_SIZE = 64;
/** The issue's targets. */
const TARGETS = { trainingSeconds: 20, inferenceMs: 20, backend: 'wasm' };
const PEAK = '512x512x512 (peak)';
const LSTM_SIZED = '64x26x80 (x|h · gate kernels)';

async function child(...argv) {
  const started = process.hrtime.bigint();
  const { stdout } = await run('node', [childScript, ...argv], { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`child ${argv.join(' ')} printed no result`);
  process.stderr.write(`${argv.slice(0, 3).join(' ')} ${argv[0] === 'fit' ? argv[3] : ''} done in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s\n`);
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

async function cpuModel() {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpus()[0]?.model ?? 'unknown CPU';
}

function costOf(fit, rate) {
  const d = fit.describe;
  const flops = trainingFlops({
    windowSteps: d.windowSteps,
    features: FEATURES_PER_STEP,
    units: d.units,
    horizonSteps: d.horizonSteps,
    batchSize: BATCH_SIZE,
    trainingExamples: d.trainingWindows,
    validationExamples: d.validationWindows,
    epochs: d.epochs,
  });
  const peak = rate.matmuls[PEAK];
  const lstmSized = rate.matmuls[LSTM_SIZED];
  const batches = d.epochs * Math.ceil(d.trainingWindows / BATCH_SIZE);
  const step = rate.trainingStep;
  const kernels = step.kernelsPerStep ? batches * step.kernelsPerStep.total + (d.epochs + 2) * step.kernelsPerForward.total : null;
  // Ratios in CPU time (fit CPU seconds against rates measured in CPU time), so that the share of
  // a core other work took does not count; the wall-time ratios are kept beside them.
  return {
    flops,
    achievedGflops: flops.total / fit.fitCpuSeconds / 1e9,
    cpuSecondsAtPeak: flops.total / (peak.cpuGflops * 1e9),
    slowdownVsPeak: fit.fitCpuSeconds / (flops.total / (peak.cpuGflops * 1e9)),
    slowdownVsLstmSizedMatmul: fit.fitCpuSeconds / (flops.total / (lstmSized.cpuGflops * 1e9)),
    wall: {
      achievedGflops: flops.total / fit.fitSeconds / 1e9,
      slowdownVsPeak: fit.fitSeconds / (flops.total / (peak.gflops * 1e9)),
      slowdownVsLstmSizedMatmul: fit.fitSeconds / (flops.total / (lstmSized.gflops * 1e9)),
    },
    batches,
    kernelLaunches: kernels,
    // The fixed per-kernel cost alone, at the scalar-op overhead measured in the same backend.
    dispatchFloorCpuSeconds: kernels === null ? null : (kernels * rate.perOpMicroseconds.cpu) / 1e6,
    // The training loop predicted from one measured 64-example step (validation passes excluded).
    stepsCpuSeconds: step.cpuSecondsPerStep ? batches * step.cpuSecondsPerStep : null,
  };
}

/** Where one 64-example training step's time goes: arithmetic per kernel launch vs time per launch. */
function gapOf(rate) {
  const step = rate.trainingStep;
  if (!step.kernelsPerStep) return null;
  const flops = trainingFlops({ windowSteps: 32, features: FEATURES_PER_STEP, units: 20, horizonSteps: 30, batchSize: BATCH_SIZE, trainingExamples: step.batch, validationExamples: 0, epochs: 1 });
  const stepFlops = flops.train + flops.adam;
  const flopsPerLaunch = stepFlops / step.kernelsPerStep.total;
  return {
    stepFlops,
    flopsPerLaunch,
    cpuMicrosecondsPerLaunch: (step.cpuSecondsPerStep * 1e6) / step.kernelsPerStep.total,
    arithmeticMicrosecondsPerLaunch: (flopsPerLaunch / (rate.matmuls[LSTM_SIZED].cpuGflops * 1e9)) * 1e6,
  };
}

async function measureBackend(name) {
  const probe = await child('probe', name, builds[0].dist);
  if (!probe.available) return { name, available: false, reason: probe.reason };
  const runs = builds.map((b) => ({ ...b, fits: [] }));
  for (const column of ALIBABA_COLUMNS) for (const r of runs) r.fits.push(await child('fit', name, r.dist, column, String(calls), rawDir));
  for (const r of runs) {
    r.rate = await child('rate', name, r.dist);
    for (const fit of r.fits) fit.cost = costOf(fit, r.rate);
    r.gap = gapOf(r.rate);
  }
  return { name, available: true, builds: runs };
}

function verdictsOf(fits) {
  const slowestFit = Math.max(...fits.map((f) => f.fitSeconds));
  const slowestPredict = (steps) => Math.max(...fits.map((f) => f.predict[steps].medianMs));
  return {
    training: { targetSeconds: TARGETS.trainingSeconds, slowestSeconds: slowestFit, slowestCpuSeconds: Math.max(...fits.map((f) => f.fitCpuSeconds)), pass: slowestFit < TARGETS.trainingSeconds },
    inference30: { targetMs: TARGETS.inferenceMs, slowestMedianMs: slowestPredict(30), pass: slowestPredict(30) < TARGETS.inferenceMs },
    inference120: { targetMs: TARGETS.inferenceMs, slowestMedianMs: slowestPredict(120), pass: slowestPredict(120) < TARGETS.inferenceMs },
  };
}

function verdicts(backends) {
  const target = backends.find((b) => b.name === TARGETS.backend);
  if (!target?.available) return { backend: TARGETS.backend, available: false };
  return { backend: TARGETS.backend, builds: Object.fromEntries(target.builds.map((b) => [b.label, verdictsOf(b.fits)])) };
}

const f = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toPrecision(d)).toLocaleString('en-US', { maximumFractionDigits: 6 }));
const pass = (ok) => (ok ? '**pass**' : '**FAIL**');

function comparison(lines, backend) {
  const [base] = backend.builds;
  lines.push(`Side by side (${backend.builds.map((b) => `**${b.label}** = \`${b.dist}\``).join(', ')}); ratio = ${base.label} CPU time / this build's CPU time:`);
  lines.push('');
  lines.push('| trace | build | epochs (best) | training s (CPU s) | speed-up (CPU) | predict(30) median ms | predict(120) median ms |');
  lines.push('|---|---|---|---|---|---|---|');
  base.fits.forEach((baseFit, k) => {
    for (const build of backend.builds) {
      const fit = build.fits[k];
      const d = fit.describe;
      lines.push(`| ${fit.trace} | ${build.label} | ${d.epochs} (${d.bestEpoch}) | ${f(fit.fitSeconds)} (${f(fit.fitCpuSeconds)}) | ${build === base ? '—' : `${f(baseFit.fitCpuSeconds / fit.fitCpuSeconds)}×`} | ${f(fit.predict[30].medianMs)} | ${f(fit.predict[120].medianMs)} |`);
    }
  });
  lines.push('');
  lines.push('| build | network | kernel launches per Adam step (64 examples) | CPU ms per step | launches per forward pass (64) | CPU ms per forward pass |');
  lines.push('|---|---|---|---|---|---|');
  for (const build of backend.builds) {
    const step = build.rate.trainingStep;
    if (!step.kernelsPerStep) lines.push(`| ${build.label} | skipped: ${step.skipped} | | | | |`);
    else lines.push(`| ${build.label} | ${step.implementation} | ${step.kernelsPerStep.total.toLocaleString('en-US')} | ${f(step.cpuSecondsPerStep * 1e3)} | ${step.kernelsPerForward.total} | ${f(step.cpuSecondsPerForward * 1e3)} |`);
  }
  lines.push('');
}

function buildSection(lines, backend, build) {
  if (backend.builds.length > 1) {
    lines.push(`#### ${backend.name}, ${build.label}`);
    lines.push('');
  }
  lines.push('| trace | season (steps) | epochs (best) | train / val examples | training s (CPU s) | training GFLOP | achieved GFLOP/s (CPU) | × slower than peak (CPU) | × slower than LSTM-sized matmul (CPU) | predict(30) median / p90 (CPU) ms | predict(120) median / p90 (CPU) ms |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const fit of build.fits) {
    const d = fit.describe;
    const c = fit.cost;
    lines.push(
      `| ${fit.trace} | ${d.seasonSteps} | ${d.epochs} (${d.bestEpoch}) | ${d.trainingWindows} / ${d.validationWindows} | ${f(fit.fitSeconds)} (${f(fit.fitCpuSeconds)}) | ${f(c.flops.total / 1e9)} | ${f(c.achievedGflops)} | ${f(c.slowdownVsPeak)} | ${f(c.slowdownVsLstmSizedMatmul)} | ${f(fit.predict[30].medianMs)} / ${f(fit.predict[30].p90Ms)} (${f(fit.predict[30].meanCpuMs)}) | ${f(fit.predict[120].medianMs)} / ${f(fit.predict[120].p90Ms)} (${f(fit.predict[120].meanCpuMs)}) |`,
    );
  }
  lines.push('');
  const r = build.rate;
  const step = r.trainingStep;
  lines.push('Measured rate of this backend (float32, one thread, dispatch included, no read-back per call):');
  lines.push('');
  lines.push('| product (m×k×n) | wall µs per call | wall GFLOP/s | CPU µs per call | CPU GFLOP/s |');
  lines.push('|---|---|---|---|---|');
  for (const [label, m] of Object.entries(r.matmuls)) lines.push(`| ${label} | ${f(m.secondsPerCall * 1e6)} | ${f(m.gflops)} | ${f(m.cpuSecondsPerCall * 1e6)} | ${f(m.cpuGflops)} |`);
  lines.push('');
  lines.push(`Per-op overhead (a scalar add): ${f(r.perOpMicroseconds.cpu)} µs CPU (${f(r.perOpMicroseconds.wall)} µs wall).`);
  if (step.kernelsPerStep) {
    lines.push(
      `One Adam step on a 64-example batch of the same network (${step.implementation}): ${step.kernelsPerStep.total} kernel launches (${Object.entries(step.kernelsPerStep.top).map(([k, n]) => `${k} ${n}`).join(', ')}), ${f(step.cpuSecondsPerStep * 1e3)} ms CPU; one forward pass of 64 examples: ${step.kernelsPerForward.total} launches, ${f(step.cpuSecondsPerForward * 1e3)} ms CPU.`,
    );
    const c = build.fits[0].cost;
    lines.push(
      `For ${build.fits[0].trace}: ${c.batches} training steps and ${c.kernelLaunches.toLocaleString('en-US')} kernel launches; the launches alone cost ≥ ${f(c.dispatchFloorCpuSeconds)} s CPU at the scalar-op overhead, and ${c.batches} × the measured step = ${f(c.stepsCpuSeconds)} s CPU of its ${f(build.fits[0].fitCpuSeconds)} s CPU fit.`,
    );
    const g = build.gap;
    lines.push(
      `A training step does ${f(g.stepFlops / 1e6)} MFLOP over ${step.kernelsPerStep.total} kernel launches, ${f(g.flopsPerLaunch)} flops per launch, which is ${f(g.arithmeticMicrosecondsPerLaunch)} µs of arithmetic at this backend's LSTM-sized matmul rate; a launch actually takes ${f(g.cpuMicrosecondsPerLaunch)} µs CPU on average.`,
    );
  } else {
    lines.push(`Training-step measurement skipped: ${step.skipped}`);
  }
  lines.push('');
}

function accuracySection(lines, a) {
  const [base, ...others] = a.builds;
  lines.push(`### Accuracy: the LSTM's MASE in each build on the same folds of every dev trace`);
  lines.push('');
  lines.push(`Command: \`${a.command}\` (wall time ${Math.round(a.wallSeconds)} s, ${a.generatedAt}; load average ${a.machine.loadAverageBefore.map((x) => x.toFixed(1)).join(' / ')} at the start). Each build's own CLI: \`backtest --models lstm --horizon ${a.options.horizon} --folds ${a.options.folds} --warmup ${a.options.warmup}\` (history ${a.options.history}), so the folds are the same in every build.`);
  lines.push('');
  for (const b of others) {
    const s = a.summary[b.label];
    lines.push(`${b.label} / ${base.label} MASE: median ratio **${f(s.medianRatio, 4)}** over ${s.traces} traces (geometric mean ${f(s.geometricMeanRatio, 4)}, best ${f(s.bestRatio, 4)}, worst ${f(s.worstRatio, 4)}); lower on ${s.better}, higher on ${s.worse}. Median MASE ${f(s.baselineMedianMase, 4)} → ${f(s.medianMase, 4)}; median fit per fold ${f(s.baselineMedianFitSeconds)} s → ${f(s.medianFitSeconds)} s (wall).`);
  }
  lines.push('');
  lines.push(`| trace | ${a.builds.map((b) => `${b.label} MASE`).join(' | ')} | ${others.map((b) => `${b.label} / ${base.label}`).join(' | ')} | ${a.builds.map((b) => `${b.label} fit s`).join(' | ')} |`);
  lines.push(`|---|${a.builds.map(() => '---').join('|')}|${others.map(() => '---').join('|')}|${a.builds.map(() => '---').join('|')}|`);
  for (const t of a.traces) {
    lines.push(`| ${t.trace} | ${a.builds.map((b) => t.builds[b.label].error ? `error: ${t.builds[b.label].error}` : f(t.builds[b.label].mase, 4)).join(' | ')} | ${others.map((b) => f(t.ratios[b.label], 4)).join(' | ')} | ${a.builds.map((b) => f(t.builds[b.label].fitSeconds)).join(' | ')} |`);
  }
  lines.push('');
}

function report(result) {
  const { machine, backends, targets } = result;
  const lines = [];
  lines.push('## LSTM cost per TensorFlow.js backend');
  lines.push('');
  lines.push(`Command: \`${result.command}\`, after compiling \`src\` with \`node_modules/.bin/tsc -p tsconfig.build.json --outDir DIR\` into each build's directory (wall time ${Math.round(result.wallSeconds)} s). Generated ${result.generatedAt}.`);
  if (result.builds.length > 1) lines.push(`Builds: ${result.builds.map((b) => `**${b.label}** \`${b.dist}\`${b.describe ? ` (${b.describe})` : ''}`).join('; ')}.`);
  lines.push(`Machine: ${machine.cpu}, ${machine.cores} cores (\`nproc\`; shared with other work: load average ${machine.loadAverageBefore.map((x) => x.toFixed(1)).join(' / ')} at the start, ${machine.loadAverageAfter.map((x) => x.toFixed(1)).join(' / ')} at the end), ${machine.memoryGiB} GiB, Node ${machine.node}. Every backend runs on one thread (the WebAssembly backend loads its single-threaded SIMD build under Node).`);
  lines.push('');
  if (result.notes?.length) {
    for (const note of result.notes) lines.push(note);
    lines.push('');
  }
  lines.push('Data: the last 7 days (10,080 points) at true 1-minute steps. No trace in `dev/` is finer than 5 minutes, so these come');
  lines.push('from the only finer source, `raw/alibaba-2018-machine-usage` (30 s bins; one 1-minute point = the mean of two bins);');
  lines.push('three of its columns are used as three traces. About 5 h at the start of the week are missing in the source (313 minutes, NaN, filled by the forecaster).');
  lines.push('Forecaster: `new LstmForecaster({ horizonSteps: 30, seasonality: \'Auto\' })`, all else default (units 20, window 32 steps, batch 64,');
  lines.push('≤ 30 epochs with patience 4, ≤ 512 training and ≤ 256 validation examples). Training time = the wall time of `fit()`, in a fresh process;');
  lines.push('CPU time (user + system of the process) is shown beside it because the machine is shared: wall time includes waiting for a core.');
  lines.push(`Inference = \`predict(steps, [0.5, 0.8, 0.9, 0.95, 0.99])\`, median of ${calls} calls after 3 warm-up calls.`);
  lines.push('');
  for (const backend of backends) {
    lines.push(`### ${backend.name}`);
    lines.push('');
    if (!backend.available) {
      lines.push(`Unavailable: ${backend.reason}`);
      lines.push('');
      continue;
    }
    if (backend.builds.length > 1) comparison(lines, backend);
    for (const build of backend.builds) buildSection(lines, backend, build);
  }
  lines.push('### FLOP count');
  lines.push('');
  lines.push('```');
  lines.push(FORMULA);
  lines.push('```');
  lines.push('');
  const wasm = backends.find((b) => b.name === 'wasm');
  if (wasm?.available) {
    const fl = wasm.builds[0].fits[0].cost.flops;
    lines.push(`With W = 32, F = 6, U = 20, H = 30: forward(example) = ${f(fl.forwardPerExample, 4)} flops, P = ${fl.parameters} parameters.`);
    lines.push('Ratio reported above: training CPU time / (training FLOPs ÷ measured CPU-time rate), against the large square product (peak) and against the 64×26×80 product the LSTM step is made of. The JSON also holds the same ratios in wall time (`cost.wall`), which swing with the load from other work.');
    lines.push('');
  }
  if (result.ensemble) {
    lines.push('### Ensemble fit on the same weeks (LSTM + Holt-Winters + seasonal-naive + linear, as the registry builds it)');
    lines.push('');
    lines.push(ensembleMarkdown(result.ensemble));
    lines.push('');
  }
  if (result.accuracy) accuracySection(lines, result.accuracy);
  lines.push(`### Targets (issue): training one scaler < ${TARGETS.trainingSeconds} s and inference < ${TARGETS.inferenceMs} ms on the ${TARGETS.backend} backend`);
  lines.push('');
  if (targets.available === false) {
    lines.push(`The ${TARGETS.backend} backend is unavailable here; no verdict.`);
  } else {
    for (const [label, t] of Object.entries(targets.builds)) {
      const prefix = Object.keys(targets.builds).length > 1 ? `${label}: ` : '';
      lines.push(`- ${prefix}Training: slowest fit ${f(t.training.slowestSeconds)} s wall (${f(t.training.slowestCpuSeconds)} s CPU) — ${pass(t.training.pass)}`);
      lines.push(`- ${prefix}Inference, predict(30) (one horizon): slowest median ${f(t.inference30.slowestMedianMs)} ms — ${pass(t.inference30.pass)}`);
      lines.push(`- ${prefix}Inference, predict(120) (four rolled horizons): slowest median ${f(t.inference120.slowestMedianMs)} ms — ${pass(t.inference120.pass)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const machine = {
    cpu: await cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageBefore: loadavg(),
  };
  const backends = [];
  for (const name of BACKENDS) backends.push(await measureBackend(name));
  const ensemble = withEnsemble ? await measureEnsembles(builds, rawDir, 1, simulateTrace) : undefined;
  const accuracy = accuracyJson ? JSON.parse(await readFile(resolve(accuracyJson), 'utf8')) : undefined;
  machine.loadAverageAfter = loadavg();
  const result = {
    generatedAt: new Date().toISOString(),
    command: ['node bench/lstm-cost.mjs', ...process.argv.slice(2)].join(' '),
    wallSeconds: (Date.now() - started) / 1000,
    machine,
    builds: builds.map(({ label, dist: d }) => ({ label, dist: d, describe: describeBuilds[label] })),
    calls,
    options: { horizonSteps: 30, seasonality: 'Auto', stepMs: 60_000, batchSize: BATCH_SIZE, featuresPerStep: FEATURES_PER_STEP },
    flopFormula: FORMULA,
    backends,
    targets: verdicts(backends),
    ensemble,
    accuracy,
    notes: notesFile ? (await readFile(resolve(notesFile), 'utf8')).trim().split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' ')) : [],
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'lstm-cost.json'), JSON.stringify(result, null, 1));
  await writeFile(join(outDir, 'lstm-cost.md'), report(result));
  process.stderr.write(`wrote bench/results/lstm-cost.{json,md} in ${result.wallSeconds.toFixed(0)} s\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
