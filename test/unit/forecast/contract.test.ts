// The behaviour every Forecaster promises. Adding a model is one entry in `models`.
import { beforeAll, describe, expect, it } from 'vitest';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { createForecaster } from '../../../src/forecast/registry.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { LstmForecaster } from '../../../src/forecast/lstm.js';
import { MstlForecaster } from '../../../src/forecast/mstl.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { selectBackend } from '../../../src/forecast/tf/backend.js';
import { NotFittedError } from '../../../src/forecast/history.js';
import { IncompatibleStateError, InsufficientHistoryError, type Forecast, type Forecaster, type ForecasterState, type Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, START, dailySine, gaussian, makeSeries } from './fixtures.js';

interface ModelUnderTest {
  name: string;
  create: () => Forecaster;
  followsTrend: boolean;
  followsSeason: boolean;
  /** Largest relative difference allowed between the forecasts of an exported and an imported model. */
  stateTolerance: number;
  /**
   * Largest relative error on a constant series (0 for the models that recover it exactly; a global
   * network learned from other series only comes close).
   */
  constantTolerance?: number;
  /** The same for its quantiles (the global network keeps some of the spread it learned). */
  constantBandTolerance?: number;
  /** How far ahead it must reproduce a clean daily season (default six hours of 5-minute steps), and how closely (default 1 of 30). */
  seasonSteps?: number;
  seasonTolerance?: number;
}

const models: ModelUnderTest[] = [
  { name: 'SeasonalNaive', create: () => new SeasonalNaiveForecaster(), followsTrend: false, followsSeason: true, stateTolerance: 0 },
  { name: 'Linear', create: () => new LinearForecaster(), followsTrend: true, followsSeason: false, stateTolerance: 0 },
  { name: 'HoltWinters', create: () => new HoltWintersForecaster(), followsTrend: true, followsSeason: true, stateTolerance: 0 },
  {
    name: 'LSTM',
    create: () => new LstmForecaster({ maxEpochs: 5, maxTrainingWindows: 192, maxValidationWindows: 96 }),
    followsTrend: true,
    followsSeason: true,
    stateTolerance: 1e-5,
  },
  { name: 'MSTL', create: () => new MstlForecaster(), followsTrend: true, followsSeason: true, stateTolerance: 0 },
  // Trained for two hours ahead; beyond them it holds its last value.
  { name: 'Pretrained', create: () => createForecaster('Pretrained'), followsTrend: true, followsSeason: true, stateTolerance: 0, constantTolerance: 0.005, constantBandTolerance: 0.08, seasonSteps: 24, seasonTolerance: 1.5 },
];

// The TensorFlow.js models need their backend chosen once, as at operator start-up.
beforeAll(async () => {
  await selectBackend();
});

const LEVELS = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

function fitted(model: ModelUnderTest, series: Series): Forecaster {
  const forecaster = model.create();
  forecaster.fit(series);
  return forecaster;
}

describe.each(models)('$name forecaster contract', (model) => {
  it('rejects a history shorter than minHistoryPoints with InsufficientHistoryError', () => {
    const need = model.create().minHistoryPoints(FIVE_MINUTES);
    const tooShort = makeSeries(need - 1, FIVE_MINUTES, (i) => 10 + i);
    expect(() => model.create().fit(tooShort)).toThrow(InsufficientHistoryError);
    // Long enough on the grid, but too few observed points.
    const mostlyGaps = makeSeries(need * 3, FIVE_MINUTES, (i) => (i < need - 1 ? 10 + i : NaN));
    expect(() => model.create().fit(mostlyGaps)).toThrow(InsufficientHistoryError);
    expect(() => model.create().fit(makeSeries(need, FIVE_MINUTES, (i) => 10 + i))).not.toThrow();
  });

  it('predicts exactly `steps` points starting one step after the fitted series', () => {
    const series = dailySine(3, 30, 2);
    const forecast = fitted(model, series).predict(12, [0.1, 0.9]);
    expect(forecast.model).toBe(model.name);
    expect(forecast.stepMs).toBe(FIVE_MINUTES);
    expect(forecast.start).toBe(START + series.values.length * FIVE_MINUTES);
    expect(forecast.mean).toHaveLength(12);
    expect(forecast.quantiles.map((q) => q.q)).toEqual([0.1, 0.9]);
    for (const band of forecast.quantiles) expect(band.values).toHaveLength(12);
  });

  it('refuses to predict before fit and rejects quantile levels outside (0, 1)', () => {
    expect(() => model.create().predict(3, [0.9])).toThrow(/fit/);
    const forecaster = fitted(model, dailySine(3, 30, 2));
    expect(() => forecaster.predict(3, [1])).toThrow(RangeError);
    expect(() => forecaster.predict(0, [0.5])).toThrow(RangeError);
  });

  it('gives finite quantiles, monotone in q, around the mean, no narrower further out', () => {
    const series = dailySine(3, 30, 5);
    const steps = 36;
    const forecast = fitted(model, series).predict(steps, LEVELS);
    for (let h = 0; h < steps; h++) {
      const column = forecast.quantiles.map((band) => band.values[h]);
      for (const value of column) expect(Number.isFinite(value)).toBe(true);
      for (let k = 1; k < column.length; k++) expect(column[k]).toBeGreaterThanOrEqual(column[k - 1]);
      expect(forecast.quantiles[2].values[h]).toBeLessThanOrEqual(forecast.mean[h]);
      expect(forecast.quantiles[4].values[h]).toBeGreaterThanOrEqual(forecast.mean[h]);
    }
    const upper = forecast.quantiles[LEVELS.indexOf(0.95)].values;
    const lower = forecast.quantiles[LEVELS.indexOf(0.05)].values;
    expect(upper[0] - lower[0]).toBeGreaterThan(0);
    expect(upper[steps - 1] - lower[steps - 1]).toBeGreaterThanOrEqual(upper[0] - lower[0] - 1e-9);
  });

  it('never forecasts below zero when the history is non-negative', () => {
    // A steep fall towards zero: extrapolating it would go negative.
    const series = makeSeries(300, FIVE_MINUTES, (i) => 300 - i);
    const forecast = fitted(model, series).predict(60, [0.01, 0.5, 0.99]);
    for (const value of forecast.mean) expect(value).toBeGreaterThanOrEqual(0);
    for (const band of forecast.quantiles) for (const value of band.values) expect(value).toBeGreaterThanOrEqual(0);
  });

  it('tolerates NaN gaps, including a long one and a missing tail', () => {
    const clean = dailySine(3, 30, 1);
    const next = gaussian(7);
    const values = clean.values.map((v, i) => {
      if (i >= 300 && i < 340) return NaN; // a 200-minute outage
      if (i >= clean.values.length - 2) return NaN; // the last scrape is missing
      return next() > 1.6 ? NaN : v; // scattered missing points
    });
    const gappy: Series = { ...clean, values };
    const forecast = fitted(model, gappy).predict(24, [0.1, 0.9]);
    const reference = fitted(model, clean).predict(24, [0.1, 0.9]);
    expect(forecast.start).toBe(reference.start);
    for (let h = 0; h < 24; h++) {
      expect(Number.isFinite(forecast.mean[h])).toBe(true);
      expect(Math.abs(forecast.mean[h] - reference.mean[h])).toBeLessThan(10);
      for (const band of forecast.quantiles) expect(Number.isFinite(band.values[h])).toBe(true);
    }
  });

  it('recovers a constant series, exactly where it can, with a band of that width', () => {
    const series = makeSeries(2 * 288, FIVE_MINUTES, () => 42);
    const forecast = fitted(model, series).predict(30, [0.05, 0.5, 0.95]);
    const near = (value: number, tolerance = 0) => (tolerance === 0 ? expect(value).toBeCloseTo(42, 9) : expect(Math.abs(value - 42)).toBeLessThanOrEqual(42 * tolerance));
    for (const value of forecast.mean) near(value, model.constantTolerance);
    for (const band of forecast.quantiles) for (const value of band.values) near(value, model.constantBandTolerance);
  });

  it.runIf(model.followsTrend)('follows a clean linear trend', () => {
    const slope = 0.5;
    const series = makeSeries(2 * 288, FIVE_MINUTES, (i) => 100 + slope * i);
    const steps = 12;
    const forecast = fitted(model, series).predict(steps, [0.5]);
    for (let h = 1; h <= steps; h++) {
      const truth = 100 + slope * (series.values.length - 1 + h);
      expect(Math.abs(forecast.mean[h - 1] - truth)).toBeLessThan(0.01 * truth);
    }
  });

  it.runIf(model.followsSeason)('reproduces a clean daily sine season', () => {
    const series = dailySine(4);
    const steps = model.seasonSteps ?? 72; // six hours
    const forecast = fitted(model, series).predict(steps, [0.5]);
    const perDay = DAY / FIVE_MINUTES;
    for (let h = 1; h <= steps; h++) {
      const truth = 100 + 30 * Math.sin((2 * Math.PI * (series.values.length - 1 + h)) / perDay);
      expect(Math.abs(forecast.mean[h - 1] - truth)).toBeLessThan(model.seasonTolerance ?? 1);
    }
  });

  it('is deterministic: the same input gives the same forecast', () => {
    const series = dailySine(3, 30, 4, 11);
    const first = fitted(model, series).predict(20, [0.1, 0.5, 0.9]);
    const second = fitted(model, { ...series, values: series.values.slice() }).predict(20, [0.1, 0.5, 0.9]);
    expect(second).toEqual(first);
  });
});

describe.each(models)('$name forecaster update', (model) => {
  it('brings a fitted model up to date with newer points', () => {
    const full = dailySine(4, 30, 2);
    const older: Series = { ...full, values: full.values.slice(0, full.values.length - 36) };
    const forecaster = model.create();
    forecaster.fit(older);
    forecaster.update(full);
    const updated = forecaster.predict(12, [0.1, 0.9]);
    const refitted = fitted(model, full).predict(12, [0.1, 0.9]);
    expect(updated.start).toBe(refitted.start);
    for (let h = 0; h < 12; h++) expect(Math.abs(updated.mean[h] - refitted.mean[h])).toBeLessThan(3);
  });
});

function withoutTail(series: Series, points: number): Series {
  return { ...series, values: series.values.slice(0, series.values.length - points) };
}

function expectSameForecast(actual: Forecast, expected: Forecast, tolerance: number): void {
  if (tolerance === 0) {
    expect(actual).toEqual(expected);
    return;
  }
  expect({ ...actual, mean: [], quantiles: [] }).toEqual({ ...expected, mean: [], quantiles: [] });
  const close = (a: readonly number[], b: readonly number[]): void => {
    expect(a).toHaveLength(b.length);
    a.forEach((value, i) => expect(Math.abs(value - b[i])).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(b[i]))));
  };
  close(actual.mean, expected.mean);
  expect(actual.quantiles.map((band) => band.q)).toEqual(expected.quantiles.map((band) => band.q));
  actual.quantiles.forEach((band, k) => close(band.values, expected.quantiles[k].values));
}

/** Every string in the state that reads as base64 of at least one 32-bit value: the encoded arrays. */
function encodedArrays(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return value.length >= 8 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0 ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => encodedArrays(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => encodedArrays(item, [...path, key]));
  return [];
}

/** A deep copy of `state` with the value at `path` replaced by `change(old value)`. */
function changed(state: ForecasterState, path: (string | number)[], change: (old: string) => string): ForecasterState {
  const copy = JSON.parse(JSON.stringify(state)) as ForecasterState;
  let parent = copy as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  parent[last] = change(parent[last] as string);
  return copy;
}

/** The same encoded array with NaN in its first value, read as Float64 (bytes 0-7) or Float32 (bytes 4-7). */
function withNaN(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64');
  Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]).copy(bytes, 0, 0, Math.min(8, bytes.length));
  if (bytes.length < 8) Buffer.from([0, 0, 0xc0, 0x7f]).copy(bytes, 0);
  return bytes.toString('base64');
}

describe.each(models)('$name forecaster state', (model) => {
  const full = dailySine(4, 30, 2);
  const older = withoutTail(full, 36);

  it('survives JSON and structured clone: import then update forecasts as the exported model updated', () => {
    const original = fitted(model, older);
    const state = original.exportState();
    expect(state).toMatchObject({ model: model.name, format: expect.any(Number) });
    const viaJson = model.create();
    viaJson.importState(JSON.parse(JSON.stringify(state)) as ForecasterState);
    const viaClone = model.create();
    viaClone.importState(structuredClone(state));
    original.update(full);
    viaJson.update(full);
    viaClone.update(full);
    const expected = original.predict(48, LEVELS);
    expectSameForecast(viaJson.predict(48, LEVELS), expected, model.stateTolerance);
    expectSameForecast(viaClone.predict(48, LEVELS), expected, model.stateTolerance);
  });

  it('imports and updates from a series that does not continue the exported one', () => {
    // Shifted by half a step: no point of the new grid coincides with the state's last time.
    const shifted: Series = { ...full, start: full.start + full.stepMs / 2 };
    const original = fitted(model, older);
    const copy = model.create();
    copy.importState(JSON.parse(JSON.stringify(original.exportState())) as ForecasterState);
    original.update(shifted);
    copy.update(shifted);
    expectSameForecast(copy.predict(24, LEVELS), original.predict(24, LEVELS), model.stateTolerance);
  });

  it('refuses to export before fit', () => {
    expect(() => model.create().exportState()).toThrow(NotFittedError);
  });

  it("rejects another model's state, another format and a damaged state, and keeps forecasting as before", () => {
    const forecaster = fitted(model, older);
    const before = forecaster.predict(24, LEVELS);
    const state = JSON.parse(JSON.stringify(forecaster.exportState())) as ForecasterState;
    const other = fitted(model.name === 'SeasonalNaive' ? models[1] : models[0], older).exportState();
    const rejected: ForecasterState[] = [other, { ...state, format: state.format + 1 }, { ...state, model: 'Other' }];
    for (const key of Object.keys(state).filter((k) => k !== 'model' && k !== 'format')) {
      const { [key]: _dropped, ...truncated } = state;
      rejected.push(truncated as ForecasterState, { ...state, [key]: '#' });
    }
    const arrays = encodedArrays(state);
    expect(arrays.length).toBeGreaterThan(0);
    for (const path of arrays) {
      rejected.push(changed(state, path, (old) => old.slice(0, -4)), changed(state, path, withNaN));
    }
    for (const bad of rejected) {
      expect(() => forecaster.importState(bad), JSON.stringify(bad).slice(0, 200)).toThrow(IncompatibleStateError);
    }
    expect(forecaster.predict(24, LEVELS)).toEqual(before);
  });
});
