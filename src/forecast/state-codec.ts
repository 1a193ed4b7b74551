// Encoding and validation shared by the models' exportState/importState. Numeric arrays travel as
// base64 of little-endian Float64 or Float32 values: about a third of the size of JSON numbers,
// and Float64 round-trips exactly. Reading an untrusted state goes through StateFields, which
// throws IncompatibleStateError naming the offending field.
import { IncompatibleStateError } from './types.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Most values in one array of a state, and items in one list: far above any model that fits in a
 * saved entry (256 KiB compressed), far below what could exhaust memory. A state from outside is
 * read only within these bounds, checked before anything is decoded.
 */
export const MAX_STATE_ARRAY_VALUES = 262_144;
export const MAX_STATE_LIST_ITEMS = 65_536;
const MAX_SUMMARY_FIELDS = 64;
const MAX_SUMMARY_STRING_LENGTH = 1024;

export function encodeFloat64(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

export function encodeFloat32(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return Buffer.from(view.buffer).toString('base64');
}

/** Throws IncompatibleStateError unless `text` is base64 of whole little-endian Float64 values. */
export function decodeFloat64(text: unknown, path: string): Float64Array {
  const view = decodeBytes(text, path, 8);
  const out = new Float64Array(view.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** Throws IncompatibleStateError unless `text` is base64 of whole little-endian Float32 values. */
export function decodeFloat32(text: unknown, path: string): Float32Array {
  const view = decodeBytes(text, path, 4);
  const out = new Float32Array(view.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function decodeBytes(text: unknown, path: string, width: number): DataView {
  // Buffer.from skips characters outside the alphabet, so a mangled string must be caught here.
  if (typeof text !== 'string') throw incompatible(path, 'must be a base64 string');
  if (text.length > Math.ceil((MAX_STATE_ARRAY_VALUES * width) / 3) * 4) throw incompatible(path, `holds more than ${MAX_STATE_ARRAY_VALUES} values`);
  if (!BASE64.test(text)) throw incompatible(path, 'must be a base64 string');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % width !== 0) throw incompatible(path, `holds ${bytes.byteLength} bytes, not a whole number of ${width}-byte values`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function incompatible(path: string, problem: string): IncompatibleStateError {
  return new IncompatibleStateError(`${path} ${problem}`);
}

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

export interface ArrayRule {
  length?: number;
  /** Values must be non-decreasing (sorted residuals). */
  ascending?: boolean;
}

/** Typed reads of one object of an untrusted state; every read throws IncompatibleStateError. */
export class StateFields {
  private constructor(
    private readonly record: Record<string, unknown>,
    private readonly path: string,
  ) {}

  /** The fields of `state` after checking that it is an object of `model` in layout `format`. */
  static of(state: unknown, model: string, format: number): StateFields {
    if (!isRecord(state)) throw new IncompatibleStateError(`${model} state must be an object`);
    if (state.model !== model) throw new IncompatibleStateError(`state is of model ${JSON.stringify(state.model)}, not ${model}`);
    if (state.format !== format) {
      throw new IncompatibleStateError(`${model} state has format ${JSON.stringify(state.format)}, this version reads format ${format}`);
    }
    return new StateFields(state, model);
  }

  /** Reads an object that is not a whole state (an element of a list, say). */
  static inside(value: unknown, path: string): StateFields {
    if (!isRecord(value)) throw incompatible(path, 'must be an object');
    return new StateFields(value, path);
  }

  number(name: string, rule: NumberRule = {}): number {
    const value = this.record[name];
    const path = this.at(name);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw incompatible(path, 'must be a finite number');
    if (rule.integer && !Number.isInteger(value)) throw incompatible(path, `must be an integer, is ${value}`);
    if (rule.min !== undefined && value < rule.min) throw incompatible(path, `must be at least ${rule.min}, is ${value}`);
    if (rule.max !== undefined && value > rule.max) throw incompatible(path, `must be at most ${rule.max}, is ${value}`);
    return value;
  }

  boolean(name: string): boolean {
    const value = this.record[name];
    if (typeof value !== 'boolean') throw incompatible(this.at(name), 'must be true or false');
    return value;
  }

  float64s(name: string, rule: ArrayRule = {}): Float64Array {
    return checkedFloat64s(this.record[name], this.at(name), rule);
  }

  float32s(name: string, rule: ArrayRule = {}): Float32Array {
    return checkedFloat32s(this.record[name], this.at(name), rule);
  }

  nested(name: string): StateFields {
    return StateFields.inside(this.record[name], this.at(name));
  }

  list(name: string): unknown[] {
    return checkedList(this.record[name], this.at(name));
  }

  /** A list, or null where the state says there is nothing (a model without a network, say). */
  listOrNull(name: string): unknown[] | null {
    return this.record[name] === null ? null : this.list(name);
  }

  /** Checks a field that records an option the state was made with against this forecaster's. */
  sameOption(name: string, expected: unknown): void {
    const found = JSON.stringify(this.record[name]);
    if (found !== JSON.stringify(expected)) {
      throw incompatible(this.at(name), `is ${found ?? 'missing'} in the state, this forecaster uses ${JSON.stringify(expected)}`);
    }
  }

  /** A flat summary: an object whose values are finite numbers, booleans or strings. */
  summary(name: string): Record<string, number | boolean | string> {
    const fields = this.nested(name);
    const keys = Object.keys(fields.record);
    if (keys.length > MAX_SUMMARY_FIELDS) throw incompatible(this.at(name), `holds ${keys.length} fields, at most ${MAX_SUMMARY_FIELDS} are read`);
    for (const key of keys) {
      const value = fields.record[key];
      const ok =
        typeof value === 'boolean' || (typeof value === 'string' && value.length <= MAX_SUMMARY_STRING_LENGTH) || (typeof value === 'number' && Number.isFinite(value));
      if (!ok) throw incompatible(fields.at(key), `must be a finite number, a boolean or a string of at most ${MAX_SUMMARY_STRING_LENGTH} characters`);
    }
    return { ...(fields.record as Record<string, number | boolean | string>) };
  }

  at(name: string): string {
    return `${this.path}.${name}`;
  }
}

/** Decoded Float64 values, all finite, checked against `rule`. */
export function checkedFloat64s(text: unknown, path: string, rule: ArrayRule = {}): Float64Array {
  return checkArray(decodeFloat64(text, path), path, rule);
}

/** Decoded Float32 values, all finite, checked against `rule`. */
export function checkedFloat32s(text: unknown, path: string, rule: ArrayRule = {}): Float32Array {
  return checkArray(decodeFloat32(text, path), path, rule);
}

export function checkedList(value: unknown, path: string, length?: number): unknown[] {
  if (!Array.isArray(value)) throw incompatible(path, 'must be a list');
  if (value.length > MAX_STATE_LIST_ITEMS) throw incompatible(path, `holds ${value.length} items, at most ${MAX_STATE_LIST_ITEMS} are read`);
  if (length !== undefined && value.length !== length) throw incompatible(path, `holds ${value.length} items, expected ${length}`);
  return value;
}

function checkArray<T extends Float64Array | Float32Array>(values: T, path: string, rule: ArrayRule): T {
  if (rule.length !== undefined && values.length !== rule.length) throw incompatible(path, `holds ${values.length} values, expected ${rule.length}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw incompatible(path, `holds a non-finite value at ${i}`);
    if (rule.ascending && i > 0 && values[i] < values[i - 1]) throw incompatible(path, `must be sorted ascending (breaks at ${i})`);
  }
  return values;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
