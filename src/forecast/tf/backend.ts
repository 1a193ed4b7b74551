// Chooses the TensorFlow.js backend once per process: the native binding when it is installed,
// else WebAssembly (its binaries ship inside the package, so nothing is fetched), else plain JS.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface SelectBackendOptions {
  logger?: { info(fields: object, message: string): void };
  /** The backend to try first; the others follow in the usual order (tensorflow, wasm, cpu). */
  prefer?: BackendName;
}

export interface SelectedBackend {
  name: BackendName;
}

const ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
// The native binding is optional: a variable specifier keeps the type checker and bundlers from
// requiring it.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';

// TensorFlow.js keeps its active backend in process-wide state; these mirror it so repeated calls
// neither re-initialise the backend nor log again.
let selection: { prefer: BackendName | undefined; result: Promise<SelectedBackend> } | undefined;
let ready = false;

/**
 * Makes the best available backend active and resolves to its name. Callers await this once at
 * start-up, before any model is fitted. Calling it again with the same preference returns the
 * same selection; a different preference selects again.
 */
export function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  if (selection && selection.prefer === options.prefer) return selection.result;
  ready = false;
  const result = choose(options);
  selection = { prefer: options.prefer, result };
  result.then(
    () => {
      if (selection?.result === result) ready = true;
    },
    () => {
      if (selection?.result === result) selection = undefined;
    },
  );
  return result;
}

/** Throws unless selectBackend() has finished: models call this before touching tensors. */
export function requireBackend(): BackendName {
  if (!ready) throw new Error('no TensorFlow.js backend selected yet: await selectBackend() once before fitting a model');
  return activeBackend();
}

/** The backend TensorFlow.js is using right now. */
export function activeBackend(): BackendName {
  const name = tf.getBackend();
  if (name === 'tensorflow' || name === 'wasm' || name === 'cpu') return name;
  throw new Error(`unexpected TensorFlow.js backend ${name}`);
}

async function choose(options: SelectBackendOptions): Promise<SelectedBackend> {
  const order = options.prefer ? [options.prefer, ...ORDER.filter((name) => name !== options.prefer)] : ORDER;
  const skipped: Record<string, string> = {};
  for (const name of order) {
    try {
      await activate(name);
      options.logger?.info({ backend: name, skipped }, `TensorFlow.js backend: ${name}`);
      return { name };
    } catch (error) {
      skipped[name] = error instanceof Error ? error.message : String(error);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${JSON.stringify(skipped)}`);
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'tensorflow') await import(NATIVE_PACKAGE);
  if (name === 'wasm') setWasmPaths(wasmDirectory());
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/';
}
