// Loads the two WebAssembly modules of Grafana's augurs that the MSTL forecaster uses (MSTL with an
// AutoETS trend, and AutoETS alone for series without a season), on first use rather than at import,
// and turns augurs' failures (it throws bare strings) into Errors.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ets from '@bsull/augurs/ets';
import * as mstl from '@bsull/augurs/mstl';

export type AugursMstl = mstl.MSTL;
export type AugursAutoEts = ets.AutoETS;
export type AugursForecast = mstl.Forecast;

export interface Augurs {
  /** MSTL over the given periods (in steps, each >= 2) with a non-seasonal AutoETS trend model. */
  mstl(periods: readonly number[]): AugursMstl;
  /** AutoETS without a season. */
  autoEts(): AugursAutoEts;
  /** Bytes of linear memory of the two instances: for checking that freed models give theirs back. */
  memoryBytes(): number;
}

export class AugursUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AugursUnavailableError';
  }
}

/** What this file uses of a wasm-bindgen module (the DOM's WebAssembly types are not in this build's lib). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface WasmModule {
  initSync(input: { module: Uint8Array }): { memory: WasmMemory };
}

/**
 * The augurs modules, initialised. Each augurs module keeps its one WebAssembly instance in its own
 * module scope (wasm-bindgen's design: every MSTL object points into that instance), and its
 * initSync() returns that instance when there is one; so this adds no state of its own. The bytes
 * are read through a getter that the library only calls when it has no instance yet, so later
 * calls cost nothing (and would stay correct, only slower, if a version read them anyway).
 * Throws AugursUnavailableError when a module cannot be found or instantiated.
 */
export function loadAugurs(): Augurs {
  const mstlMemory = initialise('mstl', mstl);
  const etsMemory = initialise('ets', ets);
  return {
    mstl: (periods) => attempt('MSTL setup', () => mstl.MSTL.ets(Uint32Array.from(periods))),
    autoEts: () => attempt('AutoETS setup', () => new ets.AutoETS(1, 'ZZN')),
    memoryBytes: () => mstlMemory.buffer.byteLength + etsMemory.buffer.byteLength,
  };
}

function initialise(name: 'mstl' | 'ets', module: WasmModule): WasmMemory {
  let path = `@bsull/augurs/${name}_bg.wasm`;
  try {
    // The package exports only its JavaScript entry points, so the wasm file is found next to one.
    path = fileURLToPath(new URL(`${name}_bg.wasm`, pathToFileURL(createRequire(import.meta.url).resolve(`@bsull/augurs/${name}`))));
    const wasmPath = path;
    return module.initSync({
      get module() {
        return readFileSync(wasmPath);
      },
    }).memory;
  } catch (error) {
    throw new AugursUnavailableError(`cannot load the augurs ${name} WebAssembly module (${path}): ${describeError(error)}`);
  }
}

/** Runs an augurs call, rethrowing what it throws (often a bare string) as an Error naming `what`. */
export function attempt<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw new Error(`augurs ${what} failed: ${describeError(error)}`);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
