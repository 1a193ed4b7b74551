#!/usr/bin/env node
// Writes layers-state.json beside this script: an LSTM state exported by the tf.layers
// implementation (git 4b5ed63, the last commit before the raw-op network) and the forecast it made
// from it, for the compatibility test in network.test.ts. Run against a build of that commit:
//
//   git worktree add /tmp/lstm-old 4b5ed63 && ln -s "$PWD/node_modules" /tmp/lstm-old/node_modules
//   (cd /tmp/lstm-old && node_modules/.bin/tsc -p tsconfig.build.json --outDir /tmp/lstm-old/dist && echo '{"type":"module"}' > dist/package.json)
//   node test/unit/forecast/tf/make-layers-state.mjs /tmp/lstm-old/dist
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LAYERS_STATE_OPTIONS, layersStateSeries, LAYERS_STATE_QUANTILES, LAYERS_STATE_STEPS } from './layers-state-series.mjs';

const dist = resolve(process.argv[2] ?? '/tmp/lstm-old/dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { selectBackend } = await load('forecast/tf/backend.js');
const { LstmForecaster } = await load('forecast/lstm.js');
await selectBackend({ prefer: 'wasm' });
const series = layersStateSeries();
const model = new LstmForecaster(LAYERS_STATE_OPTIONS);
model.fit(series);
const state = model.exportState();
const forecast = model.predict(LAYERS_STATE_STEPS, LAYERS_STATE_QUANTILES);
const out = join(dirname(fileURLToPath(import.meta.url)), 'layers-state.json');
writeFileSync(out, `${JSON.stringify({ source: 'LstmForecaster (tf.layers) at git 4b5ed63, wasm backend', state, forecast }, null, 1)}\n`);
process.stderr.write(`wrote ${out}\n`);
