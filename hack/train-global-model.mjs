#!/usr/bin/env node
// Trains the Pretrained forecaster's global network (src/forecast/pretrained/) on the public traces
// and writes its weights (global-v1.json) and their PROVENANCE.md. Deterministic: plain JavaScript,
// one seeded generator, fixed iteration order, so the same data, seed and Node version give the same
// bytes (run with --check to verify against the committed file).
//
//   npx tsc -p tsconfig.build.json --outDir /tmp/pretrained-build/dist
//   node hack/train-global-model.mjs --dist /tmp/pretrained-build/dist [--seed 1] [--epochs 24] [--check]
//
// The features come from the compiled src/forecast/pretrained/features.js, the very code inference
// runs, so training and serving cannot disagree on them.
//
// Split (fixed before training, by trace, never tuned on): every dev trace is its own group; a raw
// series that is another column of a dev trace's source joins that trace's group; a group is held
// out when the first byte of sha256(SPLIT_SALT + group) is divisible by 3. Raw-only series that are in
// no dev trace (NAB road traffic, two Bitbrains VMs) always train. The held-out groups give the
// validation loss printed here and the held-out rows of bench/cold-start.mjs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SPLIT_SALT = 'prescale-global-v1/';
const LEVELS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];
const HIDDEN = 64;
const MAX_SAMPLES_PER_SERIES = 1500;
/** History lengths (5-minute slots) a training window is cut to: cold starts weigh as much as full histories. */
const HISTORY_CHOICES = [12, 24, 36, 72, 144, 288, 432, 576, 864, 1440, 2016, Infinity];
const BATCH = 128;
const LEARNING_RATE = 2e-3;
const FINAL_LEARNING_RATE = 1e-4;

/** Whether a trace group is held out from training (see the header). */
export function isHeldOut(group) {
  return createHash('sha256').update(SPLIT_SALT + group).digest()[0] % 3 === 0;
}

/** A dev trace's group: its file name without .csv. */
export const devGroup = (file) => file.replace(/\.csv$/, '');

function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The median spacing of the points, rounded to a whole minute: the trace's native step. */
function nativeStep(points) {
  const gaps = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i][0] - points[i - 1][0]);
  gaps.sort((a, b) => a - b);
  return Math.max(60_000, Math.round(gaps[Math.floor(gaps.length / 2)] / 60_000) * 60_000);
}

/** Every series to train or validate on: { name, group, source, series }. */
function loadSeries(lib, traces) {
  const out = [];
  const add = (name, group, source, points, rawOnly = false) => {
    points.sort((a, b) => a[0] - b[0]);
    out.push({ name, group, source, rawOnly, series: lib.resample(points, nativeStep(points)).series });
  };
  const devDir = join(traces, 'dev');
  for (const file of readdirSync(devDir).filter((f) => f.endsWith('.csv')).sort()) {
    const source = file.startsWith('nab-') ? 'nab' : file.split('-')[0];
    add(devGroup(file), devGroup(file), source, lib.parseTraceCsv(readFileSync(join(devDir, file), 'utf8')));
  }
  const raw = join(traces, 'raw');
  for (const file of readdirSync(join(raw, 'nab/realTraffic')).sort()) {
    const name = `nab-traffic-${devGroup(file).toLowerCase()}`;
    add(name, name, 'nab', lib.parseTraceCsv(readFileSync(join(raw, 'nab/realTraffic', file), 'utf8')), true);
  }
  for (const vm of ['270', '488']) {
    const points = [];
    for (const month of ['7', '8', '9']) {
      const lines = readFileSync(join(raw, `bitbrains-rnd-2013/vm${vm}_2013-${month}.csv`), 'utf8').trim().split('\n').slice(1);
      for (const line of lines) {
        const cells = line.split(';').map((c) => Number(c.trim()));
        if (Number.isFinite(cells[0]) && Number.isFinite(cells[3])) points.push([cells[0] * 1000, cells[3]]);
      }
    }
    add(`bitbrains-2013-vm${vm}-cpu`, 'bitbrains-2013-total-cpu', 'bitbrains', points);
  }
  const googleStart = Date.parse('2019-05-01T00:00:00Z');
  const google = readFileSync(join(raw, 'google-2019-instance-usage/instance_usage_grouped_300_seconds_month.csv'), 'utf8').trim().split('\n').slice(1);
  add('google-2019-cluster-mem', 'google-2019-cluster-cpu', 'google', google.map((line, i) => [googleStart + i * 300_000, Number(line.split(',')[1])]));
  const azureStart = Date.parse('2019-01-01T00:00:00Z');
  const azure = readFileSync(join(raw, 'azure-vm-2019-cpu/vm_cpu_readings_month_aggregated_cpu_mem.csv'), 'utf8').trim().split('\n').slice(1);
  add('azure-2019-vm-assigned-mem', 'azure-2019-vm-cpu', 'azure', azure.map((line) => { const c = line.split(','); return [azureStart + Number(c[0]) * 1000, Number(c[2])]; }));
  return out;
}

/** Windows of one series: features and normalised targets, history cut as HISTORY_CHOICES says. */
function windowsOf(features, grid, series, random) {
  const { values, endTime } = grid.toGrid(series.series, Math.floor((series.series.values.length - 1) * series.series.stepMs / grid.GRID_STEP_MS) + 1);
  const n = values.length;
  const candidates = [];
  for (let last = features.MIN_CONTEXT_OBSERVED - 1; last + features.HORIZON_SLOTS < n; last++) candidates.push(last);
  const stride = Math.max(1, candidates.length / MAX_SAMPLES_PER_SERIES);
  const xs = [];
  const ys = [];
  const x = new Float64Array(features.FEATURE_COUNT);
  const y = new Float64Array(features.HORIZON_SLOTS);
  for (let k = 0; k < Math.min(candidates.length, MAX_SAMPLES_PER_SERIES); k++) {
    const last = candidates[Math.floor(k * stride)];
    const history = HISTORY_CHOICES[Math.floor(random() * HISTORY_CHOICES.length)];
    const first = Number.isFinite(history) ? Math.max(0, last - history + 1) : 0;
    const norm = features.buildFeatures(values, first, last, endTime - (n - 1 - last) * grid.GRID_STEP_MS, x);
    if (!norm || !features.buildTargets(values, last, norm, y)) continue;
    xs.push(Float32Array.from(x));
    ys.push(Float32Array.from(y));
  }
  return { xs, ys };
}

function stack(rows, width) {
  const out = new Float64Array(rows.length * width);
  rows.forEach((r, i) => out.set(r, i * width));
  return out;
}

/** A one-hidden-layer network (hidden > 0) or a linear map (hidden = 0) from inputs to outputs. */
function makeModel(inputs, hidden, outputs, random) {
  const uniform = (n, a) => Float64Array.from({ length: n }, () => (2 * random() - 1) * a);
  if (hidden === 0) return { hidden, params: [uniform(outputs * inputs, 0.01), new Float64Array(outputs)] };
  return { hidden, params: [uniform(hidden * inputs, Math.sqrt(6 / inputs)), new Float64Array(hidden), uniform(outputs * hidden, 0.01), new Float64Array(outputs)] };
}

/** Pinball loss of the model on rows [from, to) of x/y, and (when grads is given) its gradient. */
function pass(model, X, Y, order, from, to, inputs, outputs, grads) {
  const horizons = outputs / LEVELS.length;
  const H = model.hidden;
  const [w1, b1, w2, b2] = model.params;
  const pre = new Float64Array(H);
  const act = new Float64Array(H);
  const out = new Float64Array(outputs);
  const gOut = new Float64Array(outputs);
  const gAct = new Float64Array(H);
  let loss = 0;
  for (let r = from; r < to; r++) {
    const row = order ? order[r] : r;
    const xo = row * inputs;
    const yo = row * horizons;
    if (H > 0) {
      for (let j = 0; j < H; j++) {
        let s = b1[j];
        const wo = j * inputs;
        for (let i = 0; i < inputs; i++) s += w1[wo + i] * X[xo + i];
        pre[j] = s;
        act[j] = s > 0 ? s : 0;
      }
      for (let o = 0; o < outputs; o++) {
        let s = b2[o];
        const wo = o * H;
        for (let j = 0; j < H; j++) s += w2[wo + j] * act[j];
        out[o] = s;
      }
    } else {
      for (let o = 0; o < outputs; o++) {
        let s = b1[o];
        const wo = o * inputs;
        for (let i = 0; i < inputs; i++) s += w1[wo + i] * X[xo + i];
        out[o] = s;
      }
    }
    for (let l = 0; l < LEVELS.length; l++) {
      const q = LEVELS[l];
      for (let h = 0; h < horizons; h++) {
        const o = l * horizons + h;
        const e = Y[yo + h] - out[o];
        loss += e >= 0 ? q * e : (q - 1) * e;
        gOut[o] = (e >= 0 ? -q : 1 - q) / outputs;
      }
    }
    if (!grads) continue;
    if (H > 0) {
      const [g1, gb1, g2, gb2] = grads;
      gAct.fill(0);
      for (let o = 0; o < outputs; o++) {
        const g = gOut[o];
        gb2[o] += g;
        const wo = o * H;
        for (let j = 0; j < H; j++) {
          g2[wo + j] += g * act[j];
          gAct[j] += g * w2[wo + j];
        }
      }
      for (let j = 0; j < H; j++) {
        if (pre[j] <= 0) continue;
        const g = gAct[j];
        gb1[j] += g;
        const wo = j * inputs;
        for (let i = 0; i < inputs; i++) g1[wo + i] += g * X[xo + i];
      }
    } else {
      const [g1, gb1] = grads;
      for (let o = 0; o < outputs; o++) {
        const g = gOut[o];
        gb1[o] += g;
        const wo = o * inputs;
        for (let i = 0; i < inputs; i++) g1[wo + i] += g * X[xo + i];
      }
    }
  }
  return loss / outputs;
}

function train(model, X, Y, count, inputs, outputs, epochs, random, label) {
  const m = model.params.map((p) => new Float64Array(p.length));
  const v = model.params.map((p) => new Float64Array(p.length));
  const grads = model.params.map((p) => new Float64Array(p.length));
  const order = new Uint32Array(count).map((_, i) => i);
  const steps = epochs * Math.ceil(count / BATCH);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let loss = 0;
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(count, from + BATCH);
      for (const g of grads) g.fill(0);
      loss += pass(model, X, Y, order, from, to, inputs, outputs, grads);
      t++;
      const lr = FINAL_LEARNING_RATE + 0.5 * (LEARNING_RATE - FINAL_LEARNING_RATE) * (1 + Math.cos((Math.PI * t) / steps));
      const c1 = 1 - 0.9 ** t;
      const c2 = 1 - 0.999 ** t;
      model.params.forEach((p, k) => {
        const g = grads[k];
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] / (to - from);
          m[k][i] = 0.9 * m[k][i] + 0.1 * gi;
          v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi;
          p[i] -= (lr * (m[k][i] / c1)) / (Math.sqrt(v[k][i] / c2) + 1e-8);
        }
      });
    }
    process.stderr.write(`${label} epoch ${epoch + 1}/${epochs}: train pinball ${(loss / count).toFixed(5)}\n`);
  }
  for (const p of model.params) for (let i = 0; i < p.length; i++) p[i] = Math.fround(p[i]);
}

function persistenceLoss(Y, count, horizons) {
  let loss = 0;
  for (let r = 0; r < count; r++) {
    for (const q of LEVELS) for (let h = 0; h < horizons; h++) {
      const e = Y[r * horizons + h];
      loss += e >= 0 ? q * e : (q - 1) * e;
    }
  }
  return loss / (LEVELS.length * horizons) / count;
}

function sourceTerms(traces) {
  const raw = join(traces, 'raw');
  return readdirSync(raw).filter((d) => statSync(join(raw, d)).isDirectory()).sort().map((dir) => {
    const text = readFileSync(join(raw, dir, 'SOURCE.md'), 'utf8');
    const pick = (label) => text.split('\n').filter((l) => l.startsWith(`- ${label}`)).map((l) => l.replace(/^- /, '')).join(' ');
    return { dir, title: text.split('\n')[0].replace(/^# /, ''), repository: pick('Repository'), license: pick('License'), citation: pick('Citation') };
  });
}

async function main() {
  const started = Date.now();
  const dist = resolve(flag('--dist', join(root, 'dist')));
  const traces = resolve(root, flag('--traces', '../shared/data/traces'));
  const outDir = resolve(root, flag('--out', 'src/forecast/pretrained/weights'));
  const seed = Number(flag('--seed', '1'));
  const epochs = Number(flag('--epochs', '24'));
  const check = process.argv.includes('--check');
  const load = (path) => import(pathToFileURL(join(dist, path)).href);
  const [features, grid, weights, lib] = await Promise.all([
    load('forecast/pretrained/features.js'), load('forecast/pretrained/grid.js'), load('forecast/pretrained/weights.js'), load('traces/csv.js'),
  ]);
  const random = mulberry32(seed);
  const all = loadSeries(lib, traces);
  const inputs = features.FEATURE_COUNT;
  const horizons = features.HORIZON_SLOTS;
  const outputs = LEVELS.length * horizons;
  const sets = { train: { xs: [], ys: [], series: [] }, heldOut: { xs: [], ys: [], series: [] } };
  for (const s of all) {
    const set = !s.rawOnly && isHeldOut(s.group) ? sets.heldOut : sets.train;
    const w = windowsOf(features, grid, s, random);
    set.xs.push(...w.xs);
    set.ys.push(...w.ys);
    set.series.push(`${s.name} (${w.xs.length})`);
  }
  const X = stack(sets.train.xs, inputs);
  const Y = stack(sets.train.ys, horizons);
  const VX = stack(sets.heldOut.xs, inputs);
  const VY = stack(sets.heldOut.ys, horizons);
  const nTrain = sets.train.xs.length;
  const nVal = sets.heldOut.xs.length;
  process.stderr.write(`${all.length} series: ${nTrain} training windows from ${sets.train.series.length}, ${nVal} held-out windows from ${sets.heldOut.series.length}\n`);

  const linear = makeModel(inputs, 0, outputs, random);
  train(linear, X, Y, nTrain, inputs, outputs, epochs, random, 'linear');
  const mlp = makeModel(inputs, HIDDEN, outputs, random);
  train(mlp, X, Y, nTrain, inputs, outputs, epochs, random, 'mlp');
  const score = (model, x, y, n) => pass(model, x, y, null, 0, n, inputs, outputs, null) / n;
  const round = (x) => Number(x.toPrecision(6));
  const scores = {
    trainPinball: round(score(mlp, X, Y, nTrain)),
    validationPinball: round(score(mlp, VX, VY, nVal)),
    trainPinballLinear: round(score(linear, X, Y, nTrain)),
    validationPinballLinear: round(score(linear, VX, VY, nVal)),
    trainPinballPersistence: round(persistenceLoss(Y, nTrain, horizons)),
    validationPinballPersistence: round(persistenceLoss(VY, nVal, horizons)),
  };
  const network = { inputs, hidden: HIDDEN, levels: LEVELS, horizons, w1: mlp.params[0], b1: mlp.params[1], w2: mlp.params[2], b2: mlp.params[3] };
  const training = {
    script: 'hack/train-global-model.mjs', seed, epochs, hidden: HIDDEN, batch: BATCH, splitSalt: SPLIT_SALT,
    trainSeries: sets.train.series.length, heldOutSeries: sets.heldOut.series.length, trainWindows: nTrain, heldOutWindows: nVal, ...scores,
  };
  const text = weights.serializeWeights(network, 'global-v1', training);
  const sha256 = createHash('sha256').update(text).digest('hex');
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(JSON.stringify({ sha256, bytes: Buffer.byteLength(text), seconds, ...scores }, null, 1));
  if (check) {
    const committed = createHash('sha256').update(readFileSync(join(outDir, 'global-v1.json'))).digest('hex');
    console.log(committed === sha256 ? 'reproduced: the committed weights are byte for byte what this run produced' : `MISMATCH: committed ${committed}, this run ${sha256}`);
    process.exitCode = committed === sha256 ? 0 : 1;
    return;
  }
  weights.parseWeightsText(text); // the file must pass the loader's own validation
  writeFileSync(join(outDir, 'global-v1.json'), text);
  writeFileSync(join(outDir, 'PROVENANCE.md'), provenance({ sha256, bytes: Buffer.byteLength(text), seconds, seed, epochs, scores, sets, traces, nTrain, nVal }));
}

function provenance(r) {
  const scriptSha = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');
  const git = (args) => { try { return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
  const head = git(['rev-parse', 'HEAD']);
  const scriptState = git(['status', '--porcelain', '--', 'hack/train-global-model.mjs', 'src/forecast/pretrained']) === '' ? 'committed at that commit' : 'not yet committed at that commit (uncommitted in the working tree)';
  const terms = sourceTerms(r.traces);
  const s = r.scores;
  return `# global-v1: provenance

The weights in \`global-v1.json\` (the Pretrained forecaster's global network) were produced by
\`hack/train-global-model.mjs\`, and by nothing else; no weights came from anywhere else.

| | |
|---|---|
| sha256 of global-v1.json | \`${r.sha256}\` |
| size | ${r.bytes} bytes |
| training command | \`npx tsc -p tsconfig.build.json --outDir /tmp/pretrained-build/dist && node hack/train-global-model.mjs --dist /tmp/pretrained-build/dist --seed ${r.seed} --epochs ${r.epochs}\` |
| script sha256 | \`${scriptSha}\` |
| git commit of the tree | \`${head}\`; the script and src/forecast/pretrained were ${scriptState} |
| seed | ${r.seed} |
| Node | ${process.version} (V8 ${process.versions.v8}) |
| date | ${new Date().toISOString().slice(0, 10)} |
| wall time | ${r.seconds} s on one core |

Reproducing: \`node hack/train-global-model.mjs --dist DIR --check\` retrains and compares the bytes
with the committed file. Training is plain JavaScript with one seeded generator and a fixed order of
operations, so the same data, seed and Node/V8 version give the same bytes. Another V8 may round
Math.exp/Math.cos differently in the last bit; then the weights differ slightly and the hash does not
match (the scores should agree to a few digits).

## Model

Inputs (src/forecast/pretrained/features.ts): the last 6 h on a 5-minute grid divided by the mean
absolute value of that window, minus the current level; the level; the observed share of each hour;
the values 1 day and 7 days earlier over the lead-in and the horizon (masked when history lacks them);
time of day and day of week. One hidden ReLU layer of 64 units; outputs: 9 quantile levels
(${LEVELS.join(', ')}) x 24 five-minute horizons (2 h), trained with the pinball loss, Adam, batch
${BATCH}, ${r.epochs} epochs, learning rate ${LEARNING_RATE} with cosine decay to ${FINAL_LEARNING_RATE}.
Each training window is cut to a history drawn from ${HISTORY_CHOICES.map((h) => (Number.isFinite(h) ? `${(h * 5) / 60} h` : 'all')).join(', ')},
so cold starts are as common in training as long histories. At most ${MAX_SAMPLES_PER_SERIES} windows per series.

## Scores (mean pinball loss over the 9 levels and 24 horizons, in normalised units)

| model | training windows (${r.nTrain}) | held-out windows (${r.nVal}) |
|---|---|---|
| MLP (committed) | ${s.trainPinball} | ${s.validationPinball} |
| linear quantile regression, same features | ${s.trainPinballLinear} | ${s.validationPinballLinear} |
| persistence (every level = the current level) | ${s.trainPinballPersistence} | ${s.validationPinballPersistence} |

The held-out loss was printed after training and used for nothing (no setting was chosen on it).
Cold-start MASE on the held-out traces: bench/results/cold-start.md.

## Split

Rule: every dev trace is a group; a raw series that is another column of a dev trace's source joins
its group; a group is held out when sha256("${SPLIT_SALT}" + group)[0] % 3 == 0.

Training series (windows): ${r.sets.train.series.join(', ')}.

Held-out series (windows): ${r.sets.heldOut.series.join(', ')}.

## Data and licences

Every series comes from /work/shared/data/traces (dev/ and raw/); the dev traces are normalised copies
of the raw files. From each raw/*/SOURCE.md:

${terms.map((t) => `### ${t.dir}: ${t.title}\n\n- ${t.repository}\n- ${t.license}\n- ${t.citation}\n`).join('\n')}
The weights are a statistical summary of these series, published with the citations above as their
licences ask (CC-BY-4.0: attribution; NAB: its MIT-style licence, LICENSE.txt in raw/nab; Bitbrains
GWA-T-12: research use with citation).
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
