// Checks on a model record read back from the model store, before it may serve. The store verifies
// that the operator wrote it, but a record is still taken apart field by field (a bug, a downgrade
// or a leaked key must not crash a reconcile), and even a genuine model must forecast the current
// history plausibly: finite, and not far outside what the history has seen, or it could hold the
// target at maxReplicas (or minReplicas) until the next retrain.
import type { ModelName } from '../api/types.js';
import { isModelName } from '../forecast/registry.js';
import type { Forecast, ForecasterState, Series } from '../forecast/types.js';
import type { ModelRecord } from './models.js';
import { fallbackChain } from './training/train-model.js';

export interface ExpectedRecord {
  format: number;
  configKey: string;
  requested: ModelName;
  /** The model the requested one runs as in this version (resolveModel). */
  resolved: ModelName;
  /** The current time (ms): a model cannot have been trained after it. */
  now: number;
}

/** How far ahead of this replica's clock another replica's trainedAt may be. */
const CLOCK_SKEW_MS = 5 * 60_000;
const MAX_FAILURE_LENGTH = 4096;
/** Far above any validation error a served model has (a MASE of 1 is as good as a seasonal-naive forecast). */
const MAX_MASE = 1e6;
/**
 * A restored forecast may stray this many history spans beyond the history's range before it counts
 * as absurd: a trend followed over a horizon of at most half the history stays far inside that.
 */
const PLAUSIBLE_SPANS = 10;

const RECORD_FIELDS = new Set(['format', 'configKey', 'requested', 'model', 'failures', 'trainedAt', 'mase', 'state', 'driftFallback']);

/** The record, checked field by field against what the manager wrote, or why it cannot be used. */
export function checkRecord(value: unknown, expected: ExpectedRecord): { record: ModelRecord } | { problem: string } {
  try {
    return { record: readRecord(value, expected) };
  } catch (err) {
    if (err instanceof RecordProblem) return { problem: err.message };
    throw err;
  }
}

class RecordProblem extends Error {}

function readRecord(value: unknown, expected: ExpectedRecord): ModelRecord {
  if (!isObject(value)) throw new RecordProblem(`the saved record is ${shown(value)}, not an object`);
  if (value.format !== expected.format) throw new RecordProblem(`saved record format ${shown(value.format)} is not ${expected.format}`);
  if (value.configKey !== expected.configKey) throw new RecordProblem('the model was trained under other spec.forecast settings');
  for (const field of Object.keys(value)) {
    if (!RECORD_FIELDS.has(field)) throw new RecordProblem(`record.${shown(field)} is not a field of a saved model`);
  }
  if (value.requested !== expected.requested) throw new RecordProblem(`record.requested is ${shown(value.requested)}, the spec asks for ${expected.requested}`);
  const chain = fallbackChain(expected.resolved);
  const model = value.model;
  if (!isModelName(model) || !chain.includes(model)) throw new RecordProblem(`record.model is ${shown(model)}, not one of ${chain.join(', ')}`);
  const failures = value.failures;
  if (!Array.isArray(failures) || failures.length >= chain.length) throw new RecordProblem(`record.failures must be a list of fewer than ${chain.length} messages`);
  failures.forEach((failure, i) => {
    if (typeof failure !== 'string' || failure.length > MAX_FAILURE_LENGTH) throw new RecordProblem(`record.failures[${i}] must be a string of at most ${MAX_FAILURE_LENGTH} characters`);
  });
  const trainedAt = value.trainedAt;
  if (typeof trainedAt !== 'number' || !Number.isInteger(trainedAt) || trainedAt < 0 || trainedAt > expected.now + CLOCK_SKEW_MS) {
    throw new RecordProblem(`record.trainedAt is ${shown(trainedAt)}, not a time (ms) before now`);
  }
  const mase = value.mase;
  if (mase !== undefined && (typeof mase !== 'number' || !Number.isFinite(mase) || mase < 0 || mase > MAX_MASE)) {
    throw new RecordProblem(`record.mase is ${shown(mase)}, not a number in [0, ${MAX_MASE}]`);
  }
  const state = stateOf(value.state, model, 'record.state');
  let driftFallback: ModelRecord['driftFallback'];
  if (value.driftFallback !== undefined) {
    const fallback = value.driftFallback;
    if (!isObject(fallback)) throw new RecordProblem('record.driftFallback must be an object');
    const fallbacks = fallbackChain(model).slice(1);
    if (!isModelName(fallback.model) || !fallbacks.includes(fallback.model)) {
      throw new RecordProblem(`record.driftFallback.model is ${shown(fallback.model)}, not one of ${fallbacks.join(', ') || '(none)'}`);
    }
    driftFallback = { model: fallback.model, state: stateOf(fallback.state, fallback.model, 'record.driftFallback.state') };
  }
  return {
    format: expected.format as ModelRecord['format'],
    configKey: expected.configKey,
    requested: expected.requested,
    model,
    failures: failures as string[],
    trainedAt,
    ...(mase !== undefined ? { mase } : {}),
    state,
    ...(driftFallback ? { driftFallback } : {}),
  };
}

/** The state's own fields are the forecaster's to check (importState); here only that it is one of `model`. */
function stateOf(value: unknown, model: ModelName, path: string): ForecasterState {
  if (!isObject(value)) throw new RecordProblem(`${path} must be an object`);
  if (value.model !== model) throw new RecordProblem(`${path}.model is ${shown(value.model)}, not ${model}`);
  if (typeof value.format !== 'number' || !Number.isInteger(value.format)) throw new RecordProblem(`${path}.format is ${shown(value.format)}, not an integer`);
  return value as ForecasterState;
}

/**
 * Why a restored model's forecast of the current history must not serve, or undefined when it may:
 * every point of the mean and of each quantile finite, and within PLAUSIBLE_SPANS spans of the
 * history's range.
 */
export function implausibleForecast(forecast: Forecast, series: Series, steps: number): string | undefined {
  if (forecast.mean.length !== steps) return `it forecast ${forecast.mean.length} points, ${steps} were asked for`;
  let min = Infinity;
  let max = -Infinity;
  for (const v of series.values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return 'the history has no observed point to compare its forecast with';
  const span = Math.max(max - min, Math.abs(min), Math.abs(max)) || 1;
  const low = min - PLAUSIBLE_SPANS * span;
  const high = max + PLAUSIBLE_SPANS * span;
  const lines = [{ label: 'mean', values: forecast.mean }, ...forecast.quantiles.map((q) => ({ label: `quantile ${q.q}`, values: q.values }))];
  for (const { label, values } of lines) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) return `its ${label} forecast is not finite at step ${i + 1}`;
      if (v < low || v > high) return `its ${label} forecast is ${v} at step ${i + 1}, far outside the history's range [${min}, ${max}]`;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of an untrusted value for a message. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= 40 ? text : `${text.slice(0, 39)}…`;
}
