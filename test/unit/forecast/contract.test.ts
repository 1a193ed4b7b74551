// The behaviour every Forecaster promises. Adding a model is one entry in `models`.
import { beforeAll, describe, expect, it } from 'vitest';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { createForecaster } from '../../../src/forecast/registry.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { LstmForecaster } from '../../../src/forecast/lstm.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { selectBackend } from '../../../src/forecast/tf/backend.js';
import { InsufficientHistoryError, type Forecaster, type Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, START, dailySine, gaussian, makeSeries } from './fixtures.js';

interface ModelUnderTest {
  name: string;
  create: () => Forecaster;
  followsTrend: boolean;
  followsSeason: boolean;
}

const models: ModelUnderTest[] = [
  { name: 'SeasonalNaive', create: () => new SeasonalNaiveForecaster(), followsTrend: false, followsSeason: true },
  { name: 'Linear', create: () => new LinearForecaster(), followsTrend: true, followsSeason: false },
  { name: 'HoltWinters', create: () => new HoltWintersForecaster(), followsTrend: true, followsSeason: true },
  { name: 'LSTM', create: () => new LstmForecaster({ maxEpochs: 5, maxTrainingWindows: 192, maxValidationWindows: 96 }), followsTrend: true, followsSeason: true },
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

  it('recovers a constant series exactly, with a zero-width band', () => {
    const series = makeSeries(2 * 288, FIVE_MINUTES, () => 42);
    const forecast = fitted(model, series).predict(30, [0.05, 0.5, 0.95]);
    for (const value of forecast.mean) expect(value).toBeCloseTo(42, 9);
    for (const band of forecast.quantiles) for (const value of band.values) expect(value).toBeCloseTo(42, 9);
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
    const steps = 72; // six hours
    const forecast = fitted(model, series).predict(steps, [0.5]);
    const perDay = DAY / FIVE_MINUTES;
    for (let h = 1; h <= steps; h++) {
      const truth = 100 + 30 * Math.sin((2 * Math.PI * (series.values.length - 1 + h)) / perDay);
      expect(Math.abs(forecast.mean[h - 1] - truth)).toBeLessThan(1);
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
    expect(forecaster.update).toBeDefined();
    forecaster.update?.(full);
    const updated = forecaster.predict(12, [0.1, 0.9]);
    const refitted = fitted(model, full).predict(12, [0.1, 0.9]);
    expect(updated.start).toBe(refitted.start);
    for (let h = 0; h < 12; h++) expect(Math.abs(updated.mean[h] - refitted.mean[h])).toBeLessThan(3);
  });
});
