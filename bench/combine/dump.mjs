#!/usr/bin/env node
// Member forecasts for one trace on the backtest's folds, for bench/combination.mjs to combine.
// At each backtest origin every Ensemble member is fitted once, `--validation-folds` horizons before
// the origin, walked through them with update() (one forecast per fold, as the Ensemble validates),
// then brought up to the origin and asked for the test forecast. Each statistical model is also fitted
// at the origin itself, as `prescale backtest` does: that is the comparator.
//
//   node bench/combine/dump.mjs --trace FILE --out FILE [--folds 8] [--validation-folds 48]
//                               [--members LSTM,...] [--lstm '{"loss":"huber"}']
// --members dumps only those members and no comparators; --lstm overrides the LSTM's options.
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { flag, root } from '../lib.mjs';

const dist = (p) => import(join(root, 'dist', p));
const { loadTrace, resample } = await dist('traces/csv.js');
const { nativeStep } = await dist('simulate/grid.js');
const { foldOrigins } = await dist('forecast/backtest.js');
const { seasonalNaiveScale } = await dist('forecast/accuracy.js');
const { createForecaster, ENSEMBLE_MEMBERS } = await dist('forecast/registry.js');
const { selectBackend } = await dist('forecast/tf/backend.js');
const { LstmForecaster } = await dist('forecast/lstm.js');

const trace = flag('--trace');
const out = flag('--out');
const folds = Number(flag('--folds', '8'));
const validationFolds = Number(flag('--validation-folds', '48'));
const onlyMembers = flag('--members', '').split(',').filter(Boolean);
const lstmOptions = JSON.parse(flag('--lstm', '{}'));
const HORIZON_MS = 30 * 60_000;
const WARMUP_MS = 3 * 86_400_000;
const HISTORY_MS = 7 * 86_400_000;

await selectBackend();
const points = await loadTrace(trace);
const step = nativeStep(points);
const { series } = resample(points, step);
const H = Math.max(1, Math.ceil(HORIZON_MS / step));
const options = { seasonality: 'Auto', horizonSteps: H };
const origins = foldOrigins(series.values.length, { horizonSteps: H, warmupSteps: Math.ceil(WARMUP_MS / step), folds });
const historySteps = Math.ceil(HISTORY_MS / step);
const slice = (from, to) => ({ start: series.start + from * step, stepMs: step, values: series.values.slice(from, to) });

const members = onlyMembers.length ? onlyMembers : ENSEMBLE_MEMBERS;
const result = { trace: basename(trace), stepMs: step, horizonSteps: H, validationFolds, members, origins: [] };
for (const origin of origins) {
  const from = Math.max(0, origin - historySteps);
  const history = series.values.slice(from, origin);
  const fold = { origin, actual: series.values.slice(origin, origin + H), scale: seasonalNaiveScale(history, step), members: {}, comparators: {} };
  const validationStart = origin - validationFolds * H;
  const valOrigins = Array.from({ length: validationFolds }, (_, k) => validationStart + k * H);
  fold.validation = valOrigins.map((o) => ({
    actual: series.values.slice(o, o + H),
    scale: seasonalNaiveScale(series.values.slice(from, o), step),
  }));
  for (const name of members) {
    const started = performance.now();
    const member = { validation: [], test: null, error: null };
    try {
      const f = name === 'LSTM' ? new LstmForecaster({ ...options, ...lstmOptions }) : createForecaster(name, options);
      f.fit(slice(from, valOrigins[0]));
      member.fitSeconds = (performance.now() - started) / 1000;
      valOrigins.forEach((o, k) => {
        if (k > 0) f.update(slice(from, o));
        member.validation.push(f.predict(H, [0.5]).mean);
      });
      f.update(slice(from, origin));
      member.test = f.predict(H, [0.5]).mean;
      f.dispose?.();
    } catch (err) {
      member.error = String(err.message ?? err);
    }
    fold.members[name] = member;
  }
  for (const name of onlyMembers.length ? [] : ENSEMBLE_MEMBERS.filter((m) => m !== 'LSTM')) {
    try {
      const f = createForecaster(name, options);
      f.fit(slice(from, origin));
      fold.comparators[name] = f.predict(H, [0.5]).mean;
    } catch (err) {
      fold.comparators[name] = null;
    }
  }
  result.origins.push(fold);
  process.stderr.write('.');
}
await writeFile(out, JSON.stringify(result));
process.stderr.write(` ${basename(trace)}\n`);
