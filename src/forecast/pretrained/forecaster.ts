// Pretrained: a small global network trained across many public traces (weights/PROVENANCE.md),
// which forecasts from an hour of history, learns the daily pattern from the values a day (and a
// week) earlier as soon as the scaler has them, and is fine-tuned on the scaler's own history once
// it holds a day. Forecasts are the network's quantiles; the point forecast is its median.
import { requireHistory, requireSteps, NotFittedError } from '../history.js';
import { allNonNegative, assertQuantileLevels } from '../quantiles.js';
import { encodeFloat64, incompatible, StateFields } from '../state-codec.js';
import { IncompatibleStateError, InsufficientHistoryError, type Forecast, type Forecaster, type ForecasterState, type Series } from '../types.js';
import { buildFeatures, DAY_LAG_MASK_INDEX, WEEK_LAG_MASK_INDEX, FEATURE_COUNT, FEATURE_SPAN_SLOTS, HORIZON_SLOTS, MIN_CONTEXT_OBSERVED, type Normaliser } from './features.js';
import { fineTuneHead, TUNING_SPAN_SLOTS, type TunedHead } from './finetune.js';
import { GRID_STEP_MS, toGrid, type Grid } from './grid.js';
import { rearrange, toSeriesSteps, valueAtLevel } from './levels.js';
import { headOutputs, hiddenFeatures, medianLevel } from './network.js';
import type { GlobalModel } from './weights.js';

export const PRETRAINED_MODEL_NAME = 'Pretrained';
const STATE_FORMAT = 1;
const HOUR_MS = 3_600_000;
/** The fewest observed points, whatever the step: a level and a direction. */
const MIN_POINTS = 3;
/** A fine-tuned head's additions beyond this are not from fitting normalised data. */
const MAX_DELTA_MAGNITUDE = 1e3;

export interface PretrainedOptions {
  /** The validated global weights (bundledGlobalModel() for the committed ones). */
  model: GlobalModel;
  /** Refit the median head on the scaler's own history in fit() when it holds a day; default true. */
  fineTune?: boolean;
}

/** What predict() reads from the latest history: its last FEATURE_SPAN_SLOTS grid slots. */
interface Context {
  stepMs: number;
  lastTime: number;
  grid: Grid;
  normaliser: Normaliser;
  nonNegative: boolean;
}

interface Head {
  tuned: TunedHead | null;
}

export class PretrainedForecaster implements Forecaster {
  readonly name = PRETRAINED_MODEL_NAME;
  private readonly model: GlobalModel;
  private readonly fineTune: boolean;
  private head: Head | undefined;
  private context: Context | undefined;

  constructor(options: PretrainedOptions) {
    this.model = options.model;
    this.fineTune = options.fineTune ?? true;
  }

  /** An hour of points, and at least MIN_POINTS (so 3 at steps of 20 minutes and more). */
  minHistoryPoints(stepMs: number): number {
    return stepMs > 0 ? Math.max(MIN_POINTS, Math.ceil(HOUR_MS / stepMs)) : MIN_POINTS;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const grid = toGrid(series, TUNING_SPAN_SLOTS + FEATURE_SPAN_SLOTS);
    const context = this.contextOf(series, grid);
    const tuned = this.fineTune ? fineTuneHead(this.model.network, grid.values, grid.endTime) : null;
    this.head = { tuned };
    this.context = context;
  }

  /** New context only: the head (global or fine-tuned) stays that of the last fit() or importState(). */
  update(series: Series): void {
    if (!this.head) {
      this.fit(series);
      return;
    }
    requireHistory(this, series);
    this.context = this.contextOf(series, toGrid(series, FEATURE_SPAN_SLOTS));
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    assertQuantileLevels(quantiles);
    const context = this.context;
    if (!this.head || !context) throw new NotFittedError(this.name, this.head ? 'update() must be called after importState() before predict()' : undefined);
    const network = this.model.network;
    const { levels, horizons } = network;
    const x = new Float64Array(FEATURE_COUNT);
    const grid = context.grid;
    buildFeatures(grid.values, 0, grid.values.length - 1, grid.endTime, x);
    const hidden = hiddenFeatures(network, x);
    const outputs = headOutputs(network, hidden);
    const tuned = this.head.tuned;
    if (tuned) addShift(outputs, tuned.delta, hidden, levels.length, horizons);
    const { scale, baseline } = context.normaliser;
    for (let i = 0; i < outputs.length; i++) outputs[i] += baseline;
    rearrange(outputs, levels.length, horizons);

    const perLevel = levels.map((_, l) => toSeriesSteps(outputs.subarray(l * horizons, (l + 1) * horizons), baseline, context.stepMs, steps));
    const denormalise = (v: number): number => {
      const value = Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, v * scale));
      return context.nonNegative ? Math.max(0, value) : value;
    };
    const column = new Array<number>(levels.length);
    const requested = quantiles.map((q) => ({ q, values: new Array<number>(steps) }));
    // Ascending in the level; a running maximum absorbs rounding in the tails (levels 1e-18 apart).
    const ascending = requested.slice().sort((a, b) => a.q - b.q);
    for (let j = 0; j < steps; j++) {
      for (let l = 0; l < levels.length; l++) column[l] = perLevel[l][j];
      let floor = -Infinity;
      for (const r of ascending) {
        floor = Math.max(floor, denormalise(valueAtLevel(levels, column, r.q)));
        r.values[j] = floor;
      }
    }
    return {
      model: this.name,
      start: context.lastTime + context.stepMs,
      stepMs: context.stepMs,
      mean: perLevel[medianLevel(network)].map(denormalise),
      quantiles: requested,
    };
  }

  /** Only the fine-tuned head and the digest of the global weights it was tuned from; no history. */
  exportState(): ForecasterState {
    const head = this.head;
    if (!head) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    const tuned = head.tuned;
    return {
      model: this.name,
      format: STATE_FORMAT,
      fineTune: this.fineTune,
      weightsSha256: this.model.sha256,
      hidden: this.model.network.hidden,
      tuned: tuned
        ? { delta: encodeFloat64(tuned.delta), windows: tuned.windows, inSampleMaeGlobal: tuned.inSampleMaeGlobal, inSampleMaeTuned: tuned.inSampleMaeTuned }
        : null,
    };
  }

  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    fields.sameOption('fineTune', this.fineTune);
    const digest = (state as { weightsSha256?: unknown }).weightsSha256;
    if (digest !== this.model.sha256) {
      throw new IncompatibleStateError(`${this.name} state was tuned from global weights ${JSON.stringify(digest)}, this forecaster has ${this.model.sha256} (${this.model.name})`);
    }
    const hidden = this.model.network.hidden;
    fields.number('hidden', { integer: true, min: hidden, max: hidden });
    let tuned: TunedHead | null = null;
    if ((state as { tuned?: unknown }).tuned !== null) {
      const head = fields.nested('tuned');
      const delta = head.float64s('delta', { length: HORIZON_SLOTS * (hidden + 1) });
      for (let i = 0; i < delta.length; i++) {
        if (Math.abs(delta[i]) > MAX_DELTA_MAGNITUDE) throw incompatible(head.at('delta'), `value ${delta[i]} at ${i} is beyond ±${MAX_DELTA_MAGNITUDE}`);
      }
      tuned = {
        delta,
        windows: head.number('windows', { integer: true, min: 1 }),
        inSampleMaeGlobal: head.number('inSampleMaeGlobal', { min: 0 }),
        inSampleMaeTuned: head.number('inSampleMaeTuned', { min: 0 }),
      };
    }
    this.head = { tuned };
    this.context = undefined;
  }

  describe(): Record<string, unknown> {
    if (!this.head) return { model: this.name, fitted: false };
    const tuned = this.head.tuned;
    const x = this.context ? describeContext(this.context) : {};
    return {
      model: this.name,
      fitted: true,
      weights: this.model.name,
      weightsSha256: this.model.sha256,
      fineTuned: tuned !== null,
      ...(tuned ? { tuningWindows: tuned.windows, inSampleMaeGlobal: tuned.inSampleMaeGlobal, inSampleMaeTuned: tuned.inSampleMaeTuned } : {}),
      ...x,
    };
  }

  private contextOf(series: Series, fullGrid: Grid): Context {
    const values = fullGrid.values.length > FEATURE_SPAN_SLOTS ? fullGrid.values.slice(fullGrid.values.length - FEATURE_SPAN_SLOTS) : fullGrid.values;
    const grid = { endTime: fullGrid.endTime, values };
    const normaliser = buildFeatures(values, 0, values.length - 1, grid.endTime, new Float64Array(FEATURE_COUNT));
    if (!normaliser) {
      const observed = countFinite(values.subarray(values.length - Math.round((6 * HOUR_MS) / GRID_STEP_MS)));
      throw new InsufficientHistoryError(observed, MIN_CONTEXT_OBSERVED, `${this.name} needs at least ${MIN_CONTEXT_OBSERVED} observed 5-minute slots in the last 6 h, has ${observed}`);
    }
    return {
      stepMs: series.stepMs,
      lastTime: fullGrid.endTime,
      grid,
      normaliser,
      nonNegative: allNonNegative(recentObserved(series, FEATURE_SPAN_SLOTS * GRID_STEP_MS)),
    };
  }
}

/** Adds the tuned median shift (delta . [hidden, 1]) to every level at each horizon. */
function addShift(outputs: Float64Array, delta: Float64Array, hidden: Float64Array, levels: number, horizons: number): void {
  const width = hidden.length + 1;
  for (let h = 0; h < horizons; h++) {
    let shift = delta[h * width + hidden.length];
    for (let k = 0; k < hidden.length; k++) shift += delta[h * width + k] * hidden[k];
    for (let l = 0; l < levels; l++) outputs[l * horizons + h] += shift;
  }
}

function describeContext(context: Context): Record<string, unknown> {
  const x = new Float64Array(FEATURE_COUNT);
  buildFeatures(context.grid.values, 0, context.grid.values.length - 1, context.grid.endTime, x);
  return { scale: context.normaliser.scale, dayLagShare: x[DAY_LAG_MASK_INDEX], weekLagShare: x[WEEK_LAG_MASK_INDEX] };
}

function recentObserved(series: Series, spanMs: number): number[] {
  const from = Math.max(0, series.values.length - Math.ceil(spanMs / series.stepMs) - 1);
  return series.values.slice(from).filter(Number.isFinite);
}

function countFinite(values: Float64Array): number {
  let count = 0;
  for (const v of values) if (Number.isFinite(v)) count++;
  return count;
}
