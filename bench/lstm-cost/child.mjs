// One measurement in a fresh process, so each backend starts from a clean TensorFlow.js state:
//
//   node bench/lstm-cost/child.mjs probe <backend> <dist>            which backend selectBackend gives
//   node bench/lstm-cost/child.mjs fit <backend> <dist> <column> <calls> <rawDir>   fit + predict timings
//   node bench/lstm-cost/child.mjs rate <backend> <dist>             matmul rates, per-op overhead
//
// The result is printed as one line starting with RESULT_MARKER: TensorFlow.js prints its own
// banner on stdout.
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ALIBABA_COLUMNS, alibabaWeek } from './trace.mjs';

export const RESULT_MARKER = 'LSTM_COST_RESULT ';
/** The operator's quantiles in the other benches. */
const QUANTILES = [0.5, 0.8, 0.9, 0.95, 0.99];
const PREDICT_STEPS = [30, 120];
const WARM_UP_CALLS = 3;

/** The compiled project (its dist directory), set from the command line. */
let dist;
const load = (path) => import(pathToFileURL(join(dist, path)).href);

async function selected(prefer) {
  const { selectBackend } = await load('forecast/tf/backend.js');
  let skipped = {};
  const logger = { info: (fields) => (skipped = fields.skipped ?? {}) };
  const { name } = await selectBackend({ prefer, logger });
  return { name, skipped };
}

async function probe(backend) {
  const { name, skipped } = await selected(backend);
  return name === backend ? { available: true } : { available: false, reason: skipped[backend] ?? `selectBackend chose ${name}` };
}

async function fit(backend, column, calls, rawDir) {
  const { name } = await selected(backend);
  if (name !== backend) throw new Error(`asked for ${backend}, got ${name}`);
  const { LstmForecaster } = await load('forecast/lstm.js');
  const trace = await alibabaWeek(rawDir, column);
  // What the operator builds for a 30-minute horizon at a 1-minute step, default seasonality.
  const forecaster = new LstmForecaster({ seasonality: 'Auto', horizonSteps: 30 });
  // CPU time beside wall time: the machine is shared, and CPU time is what contention does not inflate.
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  forecaster.fit(trace.series);
  const fitSeconds = (performance.now() - started) / 1000;
  const fitCpuSeconds = cpuSeconds(process.cpuUsage(cpuStarted));
  const predict = {};
  for (const steps of PREDICT_STEPS) {
    for (let i = 0; i < WARM_UP_CALLS; i++) forecaster.predict(steps, QUANTILES);
    const ms = [];
    const cpuStarted = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      forecaster.predict(steps, QUANTILES);
      ms.push(performance.now() - t);
    }
    predict[steps] = { ...summarize(ms), meanCpuMs: (cpuSeconds(process.cpuUsage(cpuStarted)) * 1000) / calls };
  }
  return { trace: trace.name, source: trace.source, points: trace.series.values.length, missingMinutes: trace.missingMinutes, fitSeconds, fitCpuSeconds, describe: forecaster.describe(), predict, quantiles: QUANTILES };
}

async function rate(backend) {
  const { name } = await selected(backend);
  if (name !== backend) throw new Error(`asked for ${backend}, got ${name}`);
  const tf = await import('@tensorflow/tfjs');
  const matmuls = {};
  // The LSTM's own products at batch 64, units 20, 6 features, horizon 30, and a large square one.
  const shapes = [
    ['64x26x80 (x|h · gate kernels)', 64, 26, 80],
    ['64x6x80 (x · kernel)', 64, 6, 80],
    ['64x20x80 (h · recurrent kernel)', 64, 20, 80],
    ['64x50x30 (dense)', 64, 50, 30],
    // 512 rather than 1024: one 1024³ product takes over 5 s on the plain-JS backend.
    ['512x512x512 (peak)', 512, 512, 512],
  ];
  for (const [label, m, k, n] of shapes) matmuls[label] = matmulRate(tf, m, k, n);
  return { matmuls, perOpMicroseconds: perOpOverhead(tf), trainingStep: await trainingStep(tf) };
}

/** GFLOP/s of repeated float32 m×k · k×n products, dispatch included (no per-call read-back). */
function matmulRate(tf, m, k, n) {
  const a = tf.randomUniform([m, k], -1, 1, 'float32', 1);
  const b = tf.randomUniform([k, n], -1, 1, 'float32', 2);
  const once = () => tf.tidy(() => tf.matMul(a, b)).dispose();
  for (let i = 0; i < 3; i++) once();
  const { wall, cpu } = timeRepeated(once, 1.5);
  tf.dispose([a, b]);
  const flops = 2 * m * k * n;
  return { m, k, n, flopsPerCall: flops, secondsPerCall: wall, gflops: flops / wall / 1e9, cpuSecondsPerCall: cpu, cpuGflops: flops / cpu / 1e9 };
}

/**
 * Median wall and CPU seconds per call over ≥3 samples and ≥ minSeconds in total. A sample runs
 * enough calls to last ≥20 ms, so neither clock's resolution matters for microsecond calls. CPU
 * time is the contention-proof figure on a shared machine; wall time includes waiting for a core.
 */
function timeRepeated(fn, minSeconds) {
  let callsPerSample = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < callsPerSample; i++) fn();
    if (performance.now() - t >= 20) break;
    callsPerSample *= 2;
  }
  const wall = [];
  const cpu = [];
  const begun = performance.now();
  while (wall.length < 3 || (performance.now() - begun) / 1000 < minSeconds) {
    const t = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < callsPerSample; i++) fn();
    cpu.push(cpuSeconds(process.cpuUsage(c)) / callsPerSample);
    wall.push((performance.now() - t) / 1000 / callsPerSample);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Total kernel launches and the five most frequent kernels. */
function kernelCounts(kernels) {
  const byName = {};
  for (const { name } of kernels) byName[name] = (byName[name] ?? 0) + 1;
  const top = Object.entries(byName).sort((a, b) => b[1] - a[1]).slice(0, 5);
  return { total: kernels.length, top: Object.fromEntries(top) };
}

/** Microseconds (wall, CPU) for one kernel whose arithmetic is negligible: the fixed cost of every op. */
function perOpOverhead(tf) {
  const a = tf.scalar(1);
  const b = tf.scalar(2);
  const { wall, cpu } = timeRepeated(() => tf.add(a, b).dispose(), 1);
  tf.dispose([a, b]);
  return { wall: wall * 1e6, cpu: cpu * 1e6 };
}

/**
 * One Adam step on a 64-example batch of the forecaster's own network, as its training loop takes
 * it (the default loss, 'mae'): how many kernels it launches and how long it takes; and one forward
 * pass of the same 64 examples. Works on either generation of tf/network.js: the raw-op network
 * with hand-derived gradients (LstmNetwork, tf/train.js trainingStep) or the tf.layers model
 * trained through autograd (buildNetwork, before that rewrite), so an old build can be measured
 * beside a new one. Skipped, with the reason, if neither shape is found.
 */
async function trainingStep(tf) {
  try {
    const network = await load('forecast/tf/network.js');
    const training = await load('forecast/tf/train.js');
    const { FEATURES_PER_STEP } = await load('forecast/tf/windows.js');
    const shape = { windowSteps: 32, horizonSteps: 30, seasonSteps: 1440 };
    const batch = 64;
    const normal = (n, seed) => Float32Array.from(tf.randomNormal([n], 0, 1, 'float32', seed).dataSync());
    const examples = { count: batch, sequence: normal(batch * shape.windowSteps * FEATURES_PER_STEP, 3), offsets: normal(batch * shape.horizonSteps, 4), targets: normal(batch * shape.horizonSteps, 5) };
    const indices = Array.from({ length: batch }, (_, i) => i);
    const optimizer = tf.train.adam(0.01);
    const subject = network.LstmNetwork ? rawOps(network, training, shape, examples, indices, optimizer) : layersModel(tf, network, training, shape, examples, indices, optimizer);
    for (let i = 0; i < 3; i++) subject.step();
    // tf.profile() reuses one record object, so each count is read before the next profile.
    const kernelsPerStep = kernelCounts((await tf.profile(subject.step)).kernels);
    const kernelsPerForward = kernelCounts((await tf.profile(subject.forward)).kernels);
    const stepSeconds = timeRepeated(subject.step, 3);
    const forwardSeconds = timeRepeated(subject.forward, 1);
    optimizer.dispose();
    subject.dispose();
    return { implementation: subject.implementation, batch, kernelsPerStep, secondsPerStep: stepSeconds.wall, cpuSecondsPerStep: stepSeconds.cpu, kernelsPerForward, secondsPerForward: forwardSeconds.wall, cpuSecondsPerForward: forwardSeconds.cpu };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  }
}

/** The raw-op network: tf/train.js's own trainingStep(). */
function rawOps(network, training, shape, examples, indices, optimizer) {
  const model = network.LstmNetwork.create(shape, { units: 20, seed: 42 });
  return {
    implementation: 'raw ops, hand-derived gradients',
    step: () => training.trainingStep(model, optimizer, examples, indices, 'mae'),
    forward: () => model.corrections(examples),
    dispose: () => model.dispose(),
  };
}

/** The tf.layers model, stepped as its train() did: gather the batch, optimizer.minimize() through autograd. */
function layersModel(tf, network, training, shape, examples, indices, optimizer) {
  const model = network.buildNetwork(shape, { units: 20, seed: 42 });
  const [sequence, offsets] = network.inputTensors(examples, shape);
  const targets = tf.tensor2d(examples.targets, [examples.count, shape.horizonSteps]);
  const variables = model.trainableWeights.map((w) => w.read());
  return {
    implementation: 'tf.layers, autograd',
    step: () =>
      tf.tidy(() => {
        const picked = tf.tensor1d(indices, 'int32');
        const [s, o, t] = [sequence, offsets, targets].map((x) => tf.gather(x, picked));
        optimizer.minimize(() => training.lossOf('mae', t, model.apply([s, o], { training: true })), false, variables);
      }),
    forward: () => network.corrections(model, examples, shape),
    dispose: () => {
      tf.dispose([sequence, offsets, targets]);
      model.dispose();
    },
  };
}

function cpuSeconds({ user, system }) {
  return (user + system) / 1e6;
}

function summarize(ms) {
  const sorted = ms.slice().sort((a, b) => a - b);
  return { calls: ms.length, medianMs: median(sorted), p90Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))], maxMs: sorted[sorted.length - 1] };
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const [mode, backend, distArg, ...rest] = process.argv.slice(2);
  dist = resolve(distArg);
  let result;
  if (mode === 'probe') result = await probe(backend);
  else if (mode === 'fit') {
    const [column, calls, rawDir] = rest;
    if (!ALIBABA_COLUMNS.includes(column)) throw new Error(`unknown column ${column}`);
    result = await fit(backend, column, Number(calls), resolve(rawDir));
  } else if (mode === 'rate') result = await rate(backend);
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

// Only when run as a script: the bench imports RESULT_MARKER from here.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  });
}
