// The committed weights file of the global model: its layout, how it is written (by the training
// script) and how it is read, hostilely: every shape, level and value is checked before use, and a
// file that does not fit this code's feature layout is refused rather than misread.
import { createHash } from 'node:crypto';
import { encodeFloat32, StateFields } from '../state-codec.js';
import { IncompatibleStateError } from '../types.js';
import { FEATURE_COUNT, HORIZON_SLOTS, CONTEXT_SLOTS, LAG_SLOTS } from './features.js';
import { GRID_STEP_MS } from './grid.js';
import type { GlobalNetwork } from './network.js';

export const WEIGHTS_MODEL = 'PretrainedGlobalWeights';
export const WEIGHTS_FORMAT = 1;
/** Names this code's feature layout; a file built for another layout is refused. */
export const FEATURE_LAYOUT = `grid${GRID_STEP_MS / 60_000}m-ctx${CONTEXT_SLOTS}-lag${LAG_SLOTS}x2-cal4-h${HORIZON_SLOTS}`;

const MAX_HIDDEN = 256;
const MAX_LEVELS = 32;
/** Weights beyond this are not from any sane training run (and could overflow the products). */
const MAX_WEIGHT_MAGNITUDE = 1e4;

export class InvalidWeightsError extends Error {
  constructor(message: string) {
    super(`global forecaster weights rejected: ${message}`);
    this.name = 'InvalidWeightsError';
  }
}

/** A validated global model and the digest that identifies it (a fine-tuned head names it). */
export interface GlobalModel {
  network: GlobalNetwork;
  /** sha256 of the canonical serialisation: the weights file's bytes as the training script writes them. */
  sha256: string;
  name: string;
  training: Record<string, number | boolean | string>;
}

/** The weights file's text: one line of JSON and a newline, so its bytes are a function of its content. */
export function serializeWeights(network: GlobalNetwork, name: string, training: Record<string, number | boolean | string>): string {
  return canonicalText({
    model: WEIGHTS_MODEL,
    format: WEIGHTS_FORMAT,
    name,
    featureLayout: FEATURE_LAYOUT,
    inputs: network.inputs,
    hidden: network.hidden,
    horizons: network.horizons,
    levels: network.levels,
    w1: encodeFloat32(network.w1),
    b1: encodeFloat32(network.b1),
    w2: encodeFloat32(network.w2),
    b2: encodeFloat32(network.b2),
    training,
  });
}

function canonicalText(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Parses and validates weights from the file's text. */
export function parseWeightsText(text: string, maxBytes = 1 << 20): GlobalModel {
  if (typeof text !== 'string') throw new InvalidWeightsError('the weights must be JSON text');
  if (text.length > maxBytes) throw new InvalidWeightsError(`the file has ${text.length} characters, more than ${maxBytes}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidWeightsError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validateWeights(raw);
}

/** Validates parsed weights (a JSON import, say); throws InvalidWeightsError naming the problem. */
export function validateWeights(raw: unknown): GlobalModel {
  try {
    return readWeights(raw);
  } catch (error) {
    if (error instanceof IncompatibleStateError) throw new InvalidWeightsError(error.message);
    throw error;
  }
}

function readWeights(raw: unknown): GlobalModel {
  const fields = StateFields.of(raw, WEIGHTS_MODEL, WEIGHTS_FORMAT);
  fields.sameOption('featureLayout', FEATURE_LAYOUT);
  const inputs = fields.number('inputs', { integer: true, min: FEATURE_COUNT, max: FEATURE_COUNT });
  const hidden = fields.number('hidden', { integer: true, min: 1, max: MAX_HIDDEN });
  const horizons = fields.number('horizons', { integer: true, min: HORIZON_SLOTS, max: HORIZON_SLOTS });
  const levels = readLevels(fields.list('levels'), fields.at('levels'));
  const outputs = levels.length * horizons;
  const network: GlobalNetwork = {
    inputs,
    hidden,
    levels,
    horizons,
    w1: bounded(fields, 'w1', hidden * inputs),
    b1: bounded(fields, 'b1', hidden),
    w2: bounded(fields, 'w2', outputs * hidden),
    b2: bounded(fields, 'b2', outputs),
  };
  const name = (raw as { name?: unknown }).name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9.-]{0,63}$/.test(name)) throw new InvalidWeightsError(`${WEIGHTS_MODEL}.name must be a short lowercase name`);
  const training = fields.summary('training');
  const sha256 = createHash('sha256').update(canonicalText(raw)).digest('hex');
  return { network, sha256, name, training };
}

function readLevels(list: unknown[], path: string): number[] {
  if (list.length < 3 || list.length > MAX_LEVELS) throw new InvalidWeightsError(`${path} must hold 3 to ${MAX_LEVELS} levels, holds ${list.length}`);
  const levels = list.map((q, i) => {
    if (typeof q !== 'number' || !(q > 0 && q < 1)) throw new InvalidWeightsError(`${path}[${i}] must be a number in (0, 1)`);
    if (i > 0 && !(q > (list[i - 1] as number))) throw new InvalidWeightsError(`${path} must be strictly ascending (breaks at ${i})`);
    return q;
  });
  if (!levels.includes(0.5)) throw new InvalidWeightsError(`${path} must include 0.5 (the median is the point forecast)`);
  return levels;
}

function bounded(fields: StateFields, name: string, length: number): Float64Array {
  const values = Float64Array.from(fields.float32s(name, { length }));
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > MAX_WEIGHT_MAGNITUDE) throw new InvalidWeightsError(`${fields.at(name)}[${i}] is ${values[i]}, beyond ±${MAX_WEIGHT_MAGNITUDE}`);
  }
  return values;
}
