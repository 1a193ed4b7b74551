import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LstmForecaster } from '../../../src/forecast/lstm.js';
import { activeBackend, selectBackend } from '../../../src/forecast/tf/backend.js';
import { NotFittedError } from '../../../src/forecast/history.js';
import { IncompatibleStateError, InsufficientHistoryError, type ForecasterState, type Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, MINUTE, START, gaussian, makeSeries } from './fixtures.js';

function recordingLogger(): { info: (obj: object, msg?: string) => void; lines: Array<{ obj: object; msg?: string }> } {
  const lines: Array<{ obj: object; msg?: string }> = [];
  return { lines, info: (obj: object, msg?: string) => lines.push({ obj, msg }) };
}

/** A daily sine with a weekday/weekend difference and noise, on any grid. */
function dailyPattern(length: number, stepMs: number, noise: number, seed = 3): Series {
  const next = gaussian(seed);
  return makeSeries(length, stepMs, (i) => {
    const t = START + i * stepMs;
    return 100 + 40 * Math.sin((2 * Math.PI * t) / DAY) + 15 * Math.sin((4 * Math.PI * t) / DAY) + noise * next();
  });
}

function slice(series: Series, length: number): Series {
  return { ...series, values: series.values.slice(0, length) };
}

/** Mean absolute error of `steps`-ahead forecasts from origins every `steps` points over the last day. */
function heldOutDayError(series: Series, steps: number, forecastAt: (known: Series) => number[]): number {
  const perDay = DAY / series.stepMs;
  const heldOutStart = series.values.length - perDay;
  let total = 0;
  let count = 0;
  for (let origin = heldOutStart; origin + steps <= series.values.length; origin += steps) {
    const mean = forecastAt(slice(series, origin));
    for (let h = 0; h < steps; h++) {
      total += Math.abs(mean[h] - series.values[origin + h]);
      count++;
    }
  }
  return total / count;
}

/** In-sample mean absolute error of the one-day seasonal naive forecast: the MASE scale. */
function seasonalNaiveScale(series: Series): number {
  const lag = DAY / series.stepMs;
  let total = 0;
  for (let i = lag; i < series.values.length; i++) total += Math.abs(series.values[i] - series.values[i - lag]);
  return total / (series.values.length - lag);
}

function seasonalNaiveForecast(known: Series, steps: number): number[] {
  const lag = DAY / known.stepMs;
  const n = known.values.length;
  return Array.from({ length: steps }, (_, h) => known.values[n + h - lag]);
}

function flatForecast(known: Series, steps: number): number[] {
  return new Array<number>(steps).fill(known.values[known.values.length - 1]);
}

describe('LstmForecaster before a backend is chosen', () => {
  it('refuses to fit and says what to do', () => {
    expect(() => new LstmForecaster().fit(dailyPattern(2 * 288, FIVE_MINUTES, 1))).toThrow(/selectBackend/);
  });
});

describe('selectBackend', () => {
  it('ends on wasm without the native binding, logs once, and is idempotent', async () => {
    const logger = recordingLogger();
    const first = await selectBackend({ logger });
    const second = await selectBackend({ logger });
    expect(first).toEqual({ name: 'wasm' });
    expect(second).toEqual(first);
    expect(activeBackend()).toBe('wasm');
    expect(logger.lines).toHaveLength(1);
    const skipped = (logger.lines[0].obj as { skipped: Record<string, string> }).skipped;
    expect(Object.keys(skipped)).toEqual(['tensorflow']);
    expect(tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]).toBe(6);
  });

  it('honours a preference for the plain JavaScript backend, and can switch back', async () => {
    expect(await selectBackend({ prefer: 'cpu' })).toEqual({ name: 'cpu' });
    expect(activeBackend()).toBe('cpu');
    expect(await selectBackend()).toEqual({ name: 'wasm' });
    expect(activeBackend()).toBe('wasm');
  });
});

describe('LstmForecaster', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('learns what the seasonal baseline misses: beats seasonal naive and a flat forecast on a held-out day', () => {
    // Deviations from the daily shape persist for a while and then decay (AR(1)): the baseline
    // carries the recent average deviation over unchanged, the network can learn how it fades.
    const pattern = dailyPattern(7 * 288, FIVE_MINUTES, 0);
    const next = gaussian(21);
    let deviation = 0;
    const series = {
      ...pattern,
      values: pattern.values.map((v) => {
        deviation = 0.95 * deviation + 3 * next();
        return v + deviation;
      }),
    };
    const training = slice(series, 6 * 288);
    const model = new LstmForecaster();
    model.fit(training);
    // Epoch 0 forecasts the baseline exactly, so a later best epoch means training beat it.
    expect(model.describe().bestEpoch).toBeGreaterThan(0);
    const steps = 30;
    const lstmError = heldOutDayError(series, steps, (known) => {
      model.update(known);
      return model.predict(steps, [0.5]).mean;
    });
    const flatError = heldOutDayError(series, steps, (known) => flatForecast(known, steps));
    const seasonalNaiveError = heldOutDayError(series, steps, (known) => seasonalNaiveForecast(known, steps));
    const mase = lstmError / seasonalNaiveScale(training);
    console.log(`held-out MAE: LSTM ${lstmError.toFixed(2)}, seasonal naive ${seasonalNaiveError.toFixed(2)}, flat ${flatError.toFixed(2)}; MASE ${mase.toFixed(3)}`);
    expect(mase).toBeLessThan(1);
    expect(lstmError).toBeLessThan(seasonalNaiveError);
    expect(lstmError).toBeLessThan(0.9 * flatError);
  });

  it('forecasts the typical value, not one pulled up by spikes, when trained on absolute errors', () => {
    // A level of 100 with small noise and, one point in ten, a spike of +60: the mean is about 106,
    // the median about 100. MASE scores absolute errors, whose best constant forecast is the median.
    const noise = gaussian(8);
    const spikes = gaussian(9);
    const series = makeSeries(3 * 288, FIVE_MINUTES, () => 100 + 2 * noise() + (spikes() > 1.2816 ? 60 : 0));
    const sorted = series.values.slice().sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const mean = series.values.reduce((a, b) => a + b, 0) / series.values.length;
    const forecastLevel = (loss: 'mse' | 'mae') => {
      const model = new LstmForecaster({ seasonality: 'None', horizonSteps: 6, loss });
      model.fit(series);
      const forecast = model.predict(6, [0.5]).mean;
      model.dispose();
      return forecast.reduce((a, b) => a + b, 0) / forecast.length;
    };
    const robust = forecastLevel('mae');
    const squared = forecastLevel('mse');
    expect(Math.abs(robust - median)).toBeLessThan(Math.abs(robust - mean));
    expect(Math.abs(squared - mean)).toBeLessThan(Math.abs(squared - median));
  });

  it('learns the daily shape from the window and calendar alone when no season is used', () => {
    const series = dailyPattern(7 * 288, FIVE_MINUTES, 0);
    const training = slice(series, 6 * 288);
    const model = new LstmForecaster({ seasonality: 'None', maxTrainingWindows: 256, maxEpochs: 20 });
    model.fit(training);
    expect(model.describe()).toMatchObject({ seasonSteps: 0 });
    const steps = 30;
    const lstmError = heldOutDayError(series, steps, (known) => {
      model.update(known);
      return model.predict(steps, [0.5]).mean;
    });
    const flatError = heldOutDayError(series, steps, (known) => flatForecast(known, steps));
    console.log(`LSTM without season: held-out MAE ${lstmError.toFixed(2)}, flat ${flatError.toFixed(2)}`);
    expect(lstmError).toBeLessThan(flatError / 2);
  });

  it('gives conformal bands that cover roughly their level on held-out data', () => {
    const series = dailyPattern(7 * 288, FIVE_MINUTES, 5, 9);
    const model = new LstmForecaster();
    model.fit(slice(series, 6 * 288));
    const steps = 30;
    let inside = 0;
    let total = 0;
    for (let origin = 6 * 288; origin + steps <= series.values.length; origin += steps) {
      model.update(slice(series, origin));
      const [lower, upper] = model.predict(steps, [0.1, 0.9]).quantiles;
      for (let h = 0; h < steps; h++) {
        const actual = series.values[origin + h];
        if (actual >= lower.values[h] && actual <= upper.values[h]) inside++;
        total++;
      }
    }
    const coverage = inside / total;
    console.log(`80 % band coverage on the held-out day: ${coverage.toFixed(3)}`);
    expect(coverage).toBeGreaterThan(0.65);
    expect(coverage).toBeLessThan(0.95);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const series = dailyPattern(3 * 288, FIVE_MINUTES, 4);
    const forecast = (seed: number) => {
      // Without a season the baseline is the last value, so training must move the weights.
      const model = new LstmForecaster({ seed, maxEpochs: 4, maxTrainingWindows: 192, seasonality: 'None' });
      model.fit(series);
      expect(model.describe().bestEpoch).toBeGreaterThan(0);
      const result = model.predict(45, [0.1, 0.5, 0.9]);
      model.dispose();
      return result;
    };
    const first = forecast(7);
    expect(forecast(7)).toEqual(first);
    expect(forecast(8).mean).not.toEqual(first.mean);
  });

  it('does not leak tensors across predictions, updates and refits', () => {
    const series = dailyPattern(3 * 288, FIVE_MINUTES, 2);
    const before = tf.memory().numTensors;
    const model = new LstmForecaster({ maxEpochs: 3 });
    model.fit(slice(series, 2 * 288));
    const afterFit = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      model.predict(100, [0.1, 0.9]);
      model.update(slice(series, 2 * 288 + 10 * k));
    }
    expect(tf.memory().numTensors).toBe(afterFit);
    model.fit(series);
    expect(tf.memory().numTensors).toBe(afterFit);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('updates without training: the weights and fit summary stay, the forecast moves on', () => {
    const series = dailyPattern(4 * 288, FIVE_MINUTES, 2);
    const model = new LstmForecaster({ maxEpochs: 4 });
    model.fit(slice(series, 3 * 288));
    const learned = model.describe();
    model.update(series);
    expect(model.describe()).toEqual(learned);
    expect(model.predict(5, [0.5]).start).toBe(START + series.values.length * FIVE_MINUTES);
  });

  it('accepts a few hours of history and describes what it learned', () => {
    const model = new LstmForecaster({ maxEpochs: 3 });
    const need = model.minHistoryPoints(MINUTE);
    expect(need).toBeLessThan(3 * 60);
    expect(() => model.fit(dailyPattern(need - 1, MINUTE, 1))).toThrow(InsufficientHistoryError);
    model.fit(dailyPattern(need, MINUTE, 1));
    expect(model.describe()).toMatchObject({ model: 'LSTM', fitted: true, backend: 'wasm', units: 20, windowSteps: 32, horizonSteps: 30, seasonSteps: 0 });
    const summary = model.describe();
    expect(summary.epochs).toBeGreaterThan(0);
    expect(summary.bestValidationLoss).toBeGreaterThanOrEqual(0);
    expect(summary.trainingSeconds).toBeGreaterThan(0);
  });

  it('fits 7 days of 1-minute data in seconds', () => {
    const series = dailyPattern(7 * 1440, MINUTE, 3);
    const model = new LstmForecaster();
    const fitStarted = performance.now();
    model.fit(series);
    const fitSeconds = (performance.now() - fitStarted) / 1000;
    const predictStarted = performance.now();
    const forecast = model.predict(120, [0.1, 0.5, 0.9]);
    const predictSeconds = (performance.now() - predictStarted) / 1000;
    console.log(`7 days of 1-minute data on ${activeBackend()}: fit ${fitSeconds.toFixed(2)} s, 120-step predict ${predictSeconds.toFixed(3)} s`, model.describe());
    expect(forecast.mean).toHaveLength(120);
    expect(model.describe()).toMatchObject({ seasonSteps: 1440, windowSteps: 32 });
    expect(fitSeconds).toBeLessThan(60);
    // The state goes into a ConfigMap next to other models' states; it must stay small.
    const stateBytes = JSON.stringify(model.exportState()).length;
    console.log(`exported LSTM state: ${stateBytes} bytes of JSON`);
    expect(stateBytes).toBeLessThan(64 * 1024);
    model.dispose();
  });
});

describe('LstmForecaster state and warm start', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  const quick = { maxEpochs: 3, maxTrainingWindows: 128, maxValidationWindows: 64 };
  const series = dailyPattern(3 * 288, FIVE_MINUTES, 3);

  function roundTrip(state: ForecasterState): ForecasterState {
    return JSON.parse(JSON.stringify(state)) as ForecasterState;
  }

  it('starts a refit from the weights it holds when the network keeps its shape', () => {
    const trained = new LstmForecaster({ ...quick, seasonality: 'None' });
    trained.fit(series);
    expect(trained.describe()).toMatchObject({ warmStart: false });
    expect(trained.describe().bestEpoch).toBeGreaterThan(0);
    const reference = trained.predict(30, [0.5]).mean;
    // A learning rate too small to move the weights: what the refit forecasts is where it started.
    const still = { ...quick, seasonality: 'None' as const, maxEpochs: 1, learningRate: 1e-9 };
    const warm = new LstmForecaster(still);
    warm.importState(roundTrip(trained.exportState()));
    warm.fit(series);
    expect(warm.describe()).toMatchObject({ warmStart: true, epochs: 1 });
    const cold = new LstmForecaster({ ...still, warmStart: false });
    cold.importState(roundTrip(trained.exportState()));
    cold.fit(series);
    expect(cold.describe()).toMatchObject({ warmStart: false });
    const warmMean = warm.predict(30, [0.5]).mean;
    const coldMean = cold.predict(30, [0.5]).mean;
    const gap = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    expect(gap(warmMean, reference)).toBeLessThan(1e-3);
    expect(gap(coldMean, reference)).toBeGreaterThan(0.1);
    for (const model of [trained, warm, cold]) model.dispose();
  });

  it('trains from scratch when the step, the units or the season change the network', () => {
    const model = new LstmForecaster({ ...quick, seasonality: 'None' });
    model.fit(series);
    model.fit(series);
    expect(model.describe()).toMatchObject({ warmStart: true });
    model.fit(dailyPattern(model.minHistoryPoints(MINUTE), MINUTE, 3));
    expect(model.describe()).toMatchObject({ warmStart: false, windowSteps: 32 });
    const otherUnits = new LstmForecaster({ ...quick, seasonality: 'None', units: 8 });
    otherUnits.importState(roundTrip(model.exportState()));
    expect(otherUnits.describe()).toMatchObject({ units: 20 });
    otherUnits.fit(series);
    expect(otherUnits.describe()).toMatchObject({ warmStart: false, units: 8 });
    const seasonal = new LstmForecaster(quick);
    seasonal.fit(series);
    expect(seasonal.describe()).toMatchObject({ seasonSteps: 288 });
    const flat = new LstmForecaster({ ...quick, seasonality: 'None' });
    flat.importState(roundTrip(seasonal.exportState()));
    flat.fit(series);
    expect(flat.describe()).toMatchObject({ warmStart: false, seasonSteps: 0 });
    for (const m of [model, otherUnits, seasonal, flat]) m.dispose();
  });

  it('declines the held weights when a fresh network forecasts the new history better', () => {
    const model = new LstmForecaster({ ...quick, seasonality: 'None' });
    model.fit(series);
    expect(model.describe().bestEpoch).toBeGreaterThan(0);
    // A random walk: the last value is the best forecast, so the calendar-driven corrections
    // learned on the daily pattern only add error.
    const next = gaussian(5);
    let level = 100;
    model.fit(makeSeries(3 * 288, FIVE_MINUTES, () => (level += next())));
    expect(model.describe()).toMatchObject({ warmStart: false, warmStartDeclined: true });
    model.dispose();
  });

  it('needs update(series) after importState before it predicts, and needs no earlier series for it', () => {
    const model = new LstmForecaster(quick);
    model.fit(slice(series, 2 * 288));
    const copy = new LstmForecaster(quick);
    copy.importState(roundTrip(model.exportState()));
    expect(() => copy.predict(5, [0.5])).toThrow(NotFittedError);
    expect(() => copy.predict(5, [0.5])).toThrow(/update/);
    copy.update(series);
    model.update(series);
    expect(copy.predict(45, [0.1, 0.9])).toEqual(model.predict(45, [0.1, 0.9]));
    expect(copy.describe()).toEqual(model.describe());
    model.dispose();
    copy.dispose();
  });

  it('rejects weights that do not fit the network the state describes, keeping its own', () => {
    const model = new LstmForecaster(quick);
    model.fit(series);
    const before = model.predict(30, [0.5]);
    const state = roundTrip(model.exportState());
    const weights = state.weights as Array<{ shape: number[]; values: string }>;
    const reshaped = weights.map((w, i) => (i === 0 ? { ...w, shape: [...w.shape].reverse() } : w));
    const tensors = tf.memory().numTensors;
    expect(() => model.importState({ ...state, weights: reshaped })).toThrow(/shape/);
    expect(() => model.importState({ ...state, weights: weights.slice(1) })).toThrow(IncompatibleStateError);
    expect(() => model.importState({ ...state, network: { ...(state.network as object), units: 21 } })).toThrow(/units/);
    expect(() => model.importState({ ...state, network: { ...(state.network as object), featuresPerStep: 5 } })).toThrow(IncompatibleStateError);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.predict(30, [0.5])).toEqual(before);
    model.dispose();
  });

  it('refuses a state of a format it does not read, so the operator retrains', () => {
    const model = new LstmForecaster(quick);
    model.fit(series);
    const state = roundTrip(model.exportState());
    // Format 1: the weights in tf.layers' layout, which both the tf.layers and the raw-op network read.
    expect(state.format).toBe(1);
    const copy = new LstmForecaster(quick);
    expect(() => copy.importState({ ...state, format: 2 })).toThrow(IncompatibleStateError);
    expect(() => copy.predict(5, [0.5])).toThrow(NotFittedError);
    model.dispose();
  });

  it('does not leak tensors across fit, export, import, warm refit and dispose', () => {
    const before = tf.memory().numTensors;
    const model = new LstmForecaster(quick);
    model.fit(slice(series, 2 * 288));
    const afterFit = tf.memory().numTensors;
    const state = roundTrip(model.exportState());
    expect(tf.memory().numTensors).toBe(afterFit);
    const copy = new LstmForecaster(quick);
    copy.importState(state);
    copy.importState(state);
    copy.update(series);
    copy.predict(60, [0.1, 0.9]);
    expect(tf.memory().numTensors).toBe(2 * afterFit - before);
    copy.fit(series);
    expect(copy.describe()).toMatchObject({ warmStart: true });
    expect(tf.memory().numTensors).toBe(2 * afterFit - before);
    model.dispose();
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
