// LSTM forecaster (TensorFlow.js). Learns corrections to a seasonal baseline from a window of
// recent history; see tf/windows.ts for the example layout.
//
// The TensorFlow.js backend must be chosen before fit(): await selectBackend() (tf/backend.ts)
// once at start-up. Training is synchronous (a manual Adam loop), so it blocks the caller for its
// duration; callers that cannot afford that run it off the main thread.
//
// The network forecasts `horizonSteps` steps at once. Longer forecasts roll forward: the forecast
// block is appended to the history and the network is run again from the block's end. Rolling
// keeps the season's shape; repeating the last block would not.
//
// A refit starts from the weights the forecaster already holds (fitted or imported) when the new
// fit's network has the same shape: retraining every few hours then converges in fewer epochs.
import { NotFittedError, requireHistory, requireSteps } from './history.js';
import { allNonNegative, assertQuantileLevels, clampMean, empiricalQuantile, sortedFinite } from './quantiles.js';
import { DAY_MS, periodToSteps } from './season.js';
import { fillGaps } from './series.js';
import { activeBackend, requireBackend } from './tf/backend.js';
import { LstmNetwork, weightCount, weightShapes, type WeightValues } from './tf/network.js';
import { evenlySpaced } from './tf/random.js';
import { batchLoss, train, type LossName } from './tf/train.js';
import { baseline, buildExamples, FEATURES_PER_STEP, firstOrigin, writeInputs, type WindowShape } from './tf/windows.js';
import { checkedFloat32s, checkedList, encodeFloat32, incompatible, MAX_STATE_ARRAY_VALUES, MAX_STATE_LIST_ITEMS, StateFields } from './state-codec.js';
import type { Forecast, Forecaster, ForecasterState, QuantileForecast, Seasonality, Series } from './types.js';

export interface LstmOptions {
  /** Steps the network forecasts at once; longer forecasts roll forward. Default 30. */
  horizonSteps?: number;
  /** How much history one example sees. Default 2 h. */
  windowMs?: number;
  /**
   * Upper bound on the window in steps, which bounds training time at fine steps: at 1-minute
   * steps the default window is 32 minutes, not 2 h. Default 32.
   */
  maxWindowSteps?: number;
  /** 'Auto' uses a daily season when the history covers it; explicit periods use the first that fits. */
  seasonality?: Seasonality;
  units?: number;
  maxEpochs?: number;
  patience?: number;
  batchSize?: number;
  learningRate?: number;
  /** Training examples are spread evenly over the history, at most this many. */
  maxTrainingWindows?: number;
  maxValidationWindows?: number;
  /** Share of the example origins (the latest ones) held out for early stopping and quantiles. */
  validationFraction?: number;
  seed?: number;
  /** Start a refit from the current weights when the network keeps its shape. Default true. */
  warmStart?: boolean;
  /**
   * Training loss. Default 'mae': forecasts are judged by absolute errors (MASE), whose best
   * forecast is the median, and a few spikes in the history pull a squared-error fit far off it.
   */
  loss?: LossName;
}

const DEFAULTS = {
  horizonSteps: 30,
  windowMs: 2 * 3_600_000,
  maxWindowSteps: 32,
  seasonality: 'Auto' as Seasonality,
  units: 20,
  maxEpochs: 30,
  patience: 4,
  batchSize: 64,
  learningRate: 0.01,
  maxTrainingWindows: 512,
  maxValidationWindows: 256,
  validationFraction: 0.2,
  seed: 42,
  warmStart: true,
  loss: 'mae' as LossName,
};

const MIN_WINDOW_STEPS = 8;
/** Examples the shortest accepted history yields: enough to train on and to hold 8 out. */
const MIN_EXAMPLES = 40;
const MIN_VALIDATION_EXAMPLES = 8;

/**
 * Layout version of exportState(); bump it whenever the layout changes. The weights are in
 * tf.layers' layout (tf/network.ts weightShapes), which the network built from raw ops keeps, so
 * states written while the network was a tf.layers model load unchanged, and the other way round.
 */
const STATE_FORMAT = 1;
/** Most LSTM units an imported state may have (the default is 20). */
const MAX_STATE_UNITS = 1024;

interface History {
  series: Series;
  /** The filled history, scaled: (value - center) / scale. */
  z: number[];
}

interface Fitted {
  stepMs: number;
  /** What forecasts start from; set by fit() and update(), absent right after importState(). */
  history: History | undefined;
  center: number;
  scale: number;
  shape: WindowShape;
  units: number;
  nonNegative: boolean;
  /** Undefined for a constant history, which is forecast as that constant. */
  model: LstmNetwork | undefined;
  /**
   * Per output step, sorted validation errors (actual - forecast) in the series' units, rounded to
   * Float32 (the precision of the network that made them) so the state carries them exactly.
   */
  sortedErrors: number[][];
  summary: Record<string, unknown>;
}

export class LstmForecaster implements Forecaster {
  readonly name = 'LSTM';
  private readonly options: typeof DEFAULTS;
  private fitted: Fitted | undefined;

  constructor(options: LstmOptions = {}) {
    this.options = { ...DEFAULTS, ...definedOnly(options) };
    const { horizonSteps, units, maxEpochs, batchSize, validationFraction } = this.options;
    for (const [key, value] of Object.entries({ horizonSteps, units, maxEpochs, batchSize })) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer, got ${value}`);
    }
    if (!(validationFraction > 0 && validationFraction < 1)) throw new RangeError(`validationFraction must lie in (0, 1), got ${validationFraction}`);
  }

  /**
   * One window, one horizon of targets, a horizon-long gap between training and validation
   * examples (so no training target overlaps a validation target), and MIN_EXAMPLES origins:
   * 131 points at 1-minute steps (about 2 h), 123 at 5-minute steps (about 10 h) with the
   * defaults. Days of history are not required: a daily season is only used once the history
   * also covers a day on top of that minimum.
   */
  minHistoryPoints(stepMs: number): number {
    return this.windowSteps(stepMs) + 2 * this.options.horizonSteps + MIN_EXAMPLES - 1;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    requireBackend();
    const started = performance.now();
    const candidateSeason = this.seasonSteps(series);
    const filled = fillGaps(series.values, candidateSeason);
    const windowSteps = this.windowSteps(series.stepMs);
    const candidate: WindowShape = { windowSteps, horizonSteps: this.options.horizonSteps, seasonSteps: candidateSeason };
    const { center, scale } = robustScale(filled);
    const nonNegative = allNonNegative(filled);
    const { units } = this.options;
    if (scale === 0) {
      const shape = { ...candidate, seasonSteps: 0 };
      const history = { series, z: filled.map(() => 0) };
      const sortedErrors = Array.from({ length: shape.horizonSteps }, () => [0]);
      this.replace({ stepMs: series.stepMs, history, center, scale: 1, shape, units, nonNegative, model: undefined, sortedErrors, summary: { constant: true, warmStart: false } });
      return;
    }
    const z = filled.map((v) => (v - center) / scale);
    const shape = candidateSeason > 0 ? seasonIfItHelps(z, this.splitOrigins(z.length, candidate).validationOrigins, candidate) : candidate;
    const { trainOrigins, validationOrigins } = this.splitOrigins(z.length, shape);
    const timeline = { start: series.start, stepMs: series.stepMs };
    const training = buildExamples(z, trainOrigins, shape, timeline);
    const validation = buildExamples(z, validationOrigins, shape, timeline);
    const held = this.options.warmStart ? this.networkOfShape(shape, units) : undefined;
    const model = LstmNetwork.create(shape, { units, seed: this.options.seed });
    let warmStart = false;
    let result: ReturnType<typeof train>;
    let predicted: Float32Array;
    try {
      // The held weights must forecast the new validation windows at least as well as a fresh
      // network (which forecasts the plain baseline) does; otherwise they are a worse start.
      warmStart = held !== undefined && batchLoss(held, validation, this.options.loss) <= batchLoss(model, validation, this.options.loss);
      if (held && warmStart) model.copyFrom(held);
      result = train(model, training, validation, { ...this.options });
      predicted = model.corrections(validation);
    } catch (error) {
      model.dispose();
      throw error;
    }
    const sortedErrors = Array.from({ length: shape.horizonSteps }, (_, h) =>
      sortedFinite(Array.from({ length: validation.count }, (_, e) => Math.fround((validation.targets[e * shape.horizonSteps + h] - predicted[e * shape.horizonSteps + h]) * scale))),
    );
    this.replace({
      stepMs: series.stepMs,
      history: { series, z },
      center,
      scale,
      shape,
      units,
      nonNegative,
      model,
      sortedErrors,
      summary: {
        constant: false,
        warmStart,
        ...(held && !warmStart ? { warmStartDeclined: true } : {}),
        trainingWindows: training.count,
        validationWindows: validation.count,
        epochs: result.epochs,
        bestEpoch: result.bestEpoch,
        bestValidationLoss: result.bestValidationLoss,
        trainingSeconds: (performance.now() - started) / 1000,
      },
    });
  }

  /** Keeps the weights, scaling and season of the last fit and forecasts from the newer series. */
  update(series: Series): void {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    if (series.stepMs !== fitted.stepMs) throw new RangeError(`update needs step ${fitted.stepMs} ms, got ${series.stepMs}`);
    requireHistory(this, series);
    const filled = fillGaps(series.values, fitted.shape.seasonSteps);
    if (filled.length <= firstOrigin(fitted.shape)) {
      this.fit(series);
      return;
    }
    this.fitted = {
      ...fitted,
      history: { series, z: filled.map((v) => (v - fitted.center) / fitted.scale) },
      nonNegative: fitted.nonNegative && allNonNegative(filled),
    };
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    assertQuantileLevels(quantiles);
    const history = fitted.history;
    if (!history) throw new NotFittedError(this.name, 'update(series) must be called after importState() before predict()');
    const n = history.z.length;
    const scaled = fitted.model ? rollForward(fitted.model, fitted.shape, history, steps) : new Array<number>(steps).fill(0);
    const mean = clampMean(
      scaled.map((v) => fitted.center + fitted.scale * v),
      fitted.nonNegative,
    );
    return {
      model: this.name,
      start: history.series.start + n * fitted.stepMs,
      stepMs: fitted.stepMs,
      mean,
      quantiles: quantiles.map((q) => band(q, mean, fitted)),
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      backend: activeBackend(),
      units: fitted.units,
      windowSteps: fitted.shape.windowSteps,
      horizonSteps: fitted.shape.horizonSteps,
      seasonSteps: fitted.shape.seasonSteps,
      ...fitted.summary,
    };
  }

  /**
   * The network's shape, scaling, validation errors and weights (Float32, as trained); no history.
   * About 60 KB of JSON with the defaults, two thirds of it the validation errors.
   */
  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      network: { units: fitted.units, ...fitted.shape, featuresPerStep: FEATURES_PER_STEP },
      stepMs: fitted.stepMs,
      center: fitted.center,
      scale: fitted.scale,
      nonNegative: fitted.nonNegative,
      sortedErrors: fitted.sortedErrors.map((errors) => encodeFloat32(errors)),
      summary: { ...fitted.summary },
      weights: fitted.model ? fitted.model.readWeights().map((weight) => ({ shape: weight.shape, values: encodeFloat32(weight.values) })) : null,
    };
  }

  /** Rebuilds the network of the state and loads its weights; update(series) must follow. */
  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    const network = fields.nested('network');
    // Bounded before anything is built from them: the network is sized by units and windowSteps.
    const units = network.number('units', { integer: true, min: 1, max: MAX_STATE_UNITS });
    const shape: WindowShape = {
      windowSteps: network.number('windowSteps', { integer: true, min: 1, max: Math.max(MIN_WINDOW_STEPS, this.options.maxWindowSteps) }),
      horizonSteps: network.number('horizonSteps', { integer: true, min: 1, max: MAX_STATE_LIST_ITEMS }),
      seasonSteps: network.number('seasonSteps', { integer: true, min: 0, max: MAX_STATE_ARRAY_VALUES }),
    };
    const features = network.number('featuresPerStep');
    if (features !== FEATURES_PER_STEP) throw incompatible(network.at('featuresPerStep'), `is ${features}, this version's network reads ${FEATURES_PER_STEP}`);
    const stepMs = fields.number('stepMs', { integer: true, min: 1 });
    const center = fields.number('center');
    const scale = fields.number('scale', { min: Number.MIN_VALUE });
    const nonNegative = fields.boolean('nonNegative');
    const sortedErrors = checkedList(fields.list('sortedErrors'), fields.at('sortedErrors'), shape.horizonSteps).map((text, h) =>
      Array.from(checkedFloat32s(text, fields.at(`sortedErrors[${h}]`), { ascending: true })),
    );
    const summary = fields.summary('summary');
    const listed = fields.listOrNull('weights');
    const weights = listed && readWeightValues(listed, fields.at('weights'), shape, units);
    const model = weights ? this.networkWithWeights(shape, units, weights, fields.at('weights')) : undefined;
    this.replace({ stepMs, history: undefined, center, scale, shape, units, nonNegative, model, sortedErrors, summary });
  }

  /** Frees the network's weights; the forecaster must be fitted again before predicting. */
  dispose(): void {
    this.fitted?.model?.dispose();
    this.fitted = undefined;
  }

  /** Installs a new fit, freeing the network of the one it replaces. */
  private replace(next: Fitted): void {
    const previous = this.fitted?.model;
    if (previous && previous !== next.model) previous.dispose();
    this.fitted = next;
  }

  /** The network held now, when a fit of `shape` and `units` would build one just like it. */
  private networkOfShape(shape: WindowShape, units: number): LstmNetwork | undefined {
    const fitted = this.fitted;
    if (!fitted?.model || fitted.units !== units) return undefined;
    const same = fitted.shape.windowSteps === shape.windowSteps && fitted.shape.horizonSteps === shape.horizonSteps && fitted.shape.seasonSteps === shape.seasonSteps;
    return same ? fitted.model : undefined;
  }

  private networkWithWeights(shape: WindowShape, units: number, weights: WeightValues[], path: string): LstmNetwork {
    requireBackend();
    const expected = weightShapes(shape, units);
    if (expected.length !== weights.length) throw incompatible(path, `holds ${weights.length} weights, the network has ${expected.length}`);
    expected.forEach((dims, i) => {
      if (dims.join('x') !== weights[i].shape.join('x')) throw incompatible(`${path}[${i}].shape`, `is [${weights[i].shape}], the network's is [${dims}]`);
    });
    return LstmNetwork.fromWeights(shape, units, weights);
  }

  private windowSteps(stepMs: number): number {
    const { windowMs, maxWindowSteps } = this.options;
    return Math.max(MIN_WINDOW_STEPS, Math.min(maxWindowSteps, Math.round(windowMs / stepMs)));
  }

  /** A season longer than the horizon that leaves room for the minimum number of examples. */
  private seasonSteps(series: Series): number {
    const { seasonality, horizonSteps } = this.options;
    if (seasonality === 'None') return 0;
    const candidates = Array.isArray(seasonality) ? seasonality : [DAY_MS];
    const room = series.values.length - this.minHistoryPoints(series.stepMs);
    for (const periodMs of candidates) {
      const steps = periodToSteps(periodMs, series.stepMs);
      if (steps > horizonSteps && steps <= room) return steps;
    }
    return 0;
  }

  /**
   * Origins in time order: the latest share for validation, then a horizon-long gap, then the
   * rest for training; each side thinned evenly to its cap.
   */
  private splitOrigins(length: number, shape: WindowShape): { trainOrigins: number[]; validationOrigins: number[] } {
    const first = firstOrigin(shape);
    const last = length - 1 - shape.horizonSteps;
    const count = last - first + 1;
    const validationCount = Math.max(MIN_VALIDATION_EXAMPLES, Math.round(count * this.options.validationFraction));
    const validationStart = last - validationCount + 1;
    const trainEnd = validationStart - shape.horizonSteps;
    const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
    return {
      trainOrigins: evenlySpaced(range(first, trainEnd), this.options.maxTrainingWindows),
      validationOrigins: evenlySpaced(range(validationStart, last), this.options.maxValidationWindows),
    };
  }
}

/** Scaled forecasts for `steps` points after the history, one network call per horizon block. */
function rollForward(model: LstmNetwork, shape: WindowShape, history: History, steps: number): number[] {
  const z = history.z.slice();
  const n = history.z.length;
  const timeline = { start: history.series.start, stepMs: history.series.stepMs };
  const sequence = new Float32Array(shape.windowSteps * FEATURES_PER_STEP);
  const offsets = new Float32Array(shape.horizonSteps);
  while (z.length < n + steps) {
    const t = z.length - 1;
    writeInputs(z, t, shape, timeline, sequence, 0, offsets, 0);
    const correction = model.corrections({ count: 1, sequence, offsets });
    const block: number[] = [];
    for (let h = 1; h <= shape.horizonSteps; h++) block.push(baseline(z, t, h, shape) + correction[h - 1]);
    z.push(...block);
  }
  return z.slice(n, n + steps);
}

/**
 * Decoded weights whose sizes add up to the network of `shape` and `units`, checked before that
 * network is built so a mangled state cannot make it allocate a huge one.
 */
function readWeightValues(listed: unknown[], path: string, shape: WindowShape, units: number): WeightValues[] {
  const weights = listed.map((item, i): WeightValues => {
    const weight = StateFields.inside(item, `${path}[${i}]`);
    const dims = weight.list('shape').map((dim, d) => {
      if (!Number.isInteger(dim) || (dim as number) < 1) throw incompatible(`${path}[${i}].shape[${d}]`, 'must be a positive integer');
      return dim as number;
    });
    const size = dims.reduce((product, dim) => product * dim, 1);
    return { shape: dims, values: weight.float32s('values', { length: size }) };
  });
  const total = weights.reduce((sum, weight) => sum + weight.values.length, 0);
  const expected = weightCount(shape, units);
  if (total !== expected) throw incompatible(path, `hold ${total} numbers, a network of ${units} units for this shape holds ${expected}`);
  return weights;
}

/**
 * The seasonal baseline when it forecasts the validation targets better than the last value does,
 * else no season: a trace whose days do not repeat would otherwise leave the network to undo a
 * misleading baseline.
 */
function seasonIfItHelps(z: readonly number[], origins: readonly number[], seasonal: WindowShape): WindowShape {
  const flat = { ...seasonal, seasonSteps: 0 };
  return baselineError(z, origins, seasonal) < baselineError(z, origins, flat) ? seasonal : flat;
}

function baselineError(z: readonly number[], origins: readonly number[], shape: WindowShape): number {
  let total = 0;
  for (const t of origins) for (let h = 1; h <= shape.horizonSteps; h++) total += (z[t + h] - baseline(z, t, h, shape)) ** 2;
  return total;
}

/**
 * Quantile q at step h: the mean plus the q-quantile of the validation errors at step h (conformal
 * style). Beyond the trained horizon, block k reuses the last step's errors widened by sqrt(k).
 * Offsets never shrink further out, stay on their side of the mean, and the band is clamped at
 * zero for a non-negative history.
 */
function band(q: number, mean: readonly number[], fitted: Fitted): QuantileForecast {
  const horizon = fitted.sortedErrors.length;
  let widest = 0;
  const values = mean.map((m, h) => {
    const errors = fitted.sortedErrors[Math.min(h, horizon - 1)];
    const widen = h < horizon ? 1 : Math.sqrt(Math.floor(h / horizon) + 1);
    let offset = empiricalQuantile(errors, q) * widen;
    if (q < 0.5) offset = Math.min(offset, 0);
    if (q > 0.5) offset = Math.max(offset, 0);
    widest = Math.abs(offset) > Math.abs(widest) ? offset : widest;
    const value = m + widest;
    return fitted.nonNegative ? Math.max(0, value) : value;
  });
  return { q, values };
}

/** Median and interquartile range; half the range when the IQR is zero (a mostly flat series). */
function robustScale(values: readonly number[]): { center: number; scale: number } {
  const sorted = values.slice().sort((a, b) => a - b);
  const center = empiricalQuantile(sorted, 0.5);
  const iqr = empiricalQuantile(sorted, 0.75) - empiricalQuantile(sorted, 0.25);
  const scale = iqr > 0 ? iqr : (sorted[sorted.length - 1] - sorted[0]) / 2;
  return { center, scale };
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
