import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotFittedError } from '../../../src/forecast/history.js';
import { bundledGlobalModel } from '../../../src/forecast/pretrained/bundled.js';
import { PretrainedForecaster } from '../../../src/forecast/pretrained/forecaster.js';
import { IncompatibleStateError, InsufficientHistoryError, type Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, MINUTE, START, gaussian, makeSeries } from './fixtures.js';

const model = bundledGlobalModel();
const HOUR = 60 * MINUTE;
const LEVELS = [0.1, 0.5, 0.9];

/** A daily wave with noise, at any step; `gapEvery` knocks out every n-th point. */
function wave(days: number, stepMs: number, gapEvery = 0, seed = 3): Series {
  const noise = gaussian(seed);
  return makeSeries(Math.round((days * DAY) / stepMs), stepMs, (i) => {
    if (gapEvery > 0 && i % gapEvery === gapEvery - 1) return NaN;
    return 200 + 80 * Math.sin((2 * Math.PI * i * stepMs) / DAY) + 5 * noise();
  });
}

function fitted(series: Series, fineTune = true): PretrainedForecaster {
  const forecaster = new PretrainedForecaster({ model, fineTune });
  forecaster.fit(series);
  return forecaster;
}

describe('PretrainedForecaster', () => {
  it('needs an hour of points at any step, and at least 3', () => {
    const forecaster = new PretrainedForecaster({ model });
    expect(forecaster.minHistoryPoints(MINUTE)).toBe(60);
    expect(forecaster.minHistoryPoints(FIVE_MINUTES)).toBe(12);
    expect(forecaster.minHistoryPoints(30 * MINUTE)).toBe(3);
    expect(forecaster.minHistoryPoints(6 * HOUR)).toBe(3);
    expect(() => forecaster.fit(makeSeries(11, FIVE_MINUTES, () => 5))).toThrow(InsufficientHistoryError);
    expect(() => forecaster.predict(3, LEVELS)).toThrow(NotFittedError);
  });

  it('refuses a history whose last 6 hours are empty, saying so', () => {
    const series = makeSeries(288, FIVE_MINUTES, (i) => (i < 100 ? 50 : NaN));
    expect(() => new PretrainedForecaster({ model }).fit(series)).toThrow(/observed 5-minute slots in the last 6 h/);
  });

  it('is deterministic: the same input gives the same forecast, bit for bit', () => {
    const series = wave(2, FIVE_MINUTES);
    const a = fitted(series).predict(12, LEVELS);
    const b = fitted(series).predict(12, LEVELS);
    expect(b).toEqual(a);
    expect(fitted(series).predict(12, LEVELS)).toEqual(a);
  });

  it('forecasts from the first hour, at 1-minute, 5-minute and 30-minute steps, across gaps', () => {
    for (const [stepMs, days] of [[MINUTE, 1 / 24], [FIVE_MINUTES, 1 / 24], [30 * MINUTE, 1 / 24], [MINUTE, 2], [FIVE_MINUTES, 3], [30 * MINUTE, 8]] as const) {
      const series = wave(days, stepMs, 7);
      if (series.values.filter(Number.isFinite).length < new PretrainedForecaster({ model }).minHistoryPoints(stepMs)) continue;
      const steps = Math.ceil(HOUR / stepMs);
      const forecast = fitted(series).predict(steps, LEVELS);
      expect(forecast.mean).toHaveLength(steps);
      expect(forecast.stepMs).toBe(stepMs);
      expect(forecast.start).toBe(series.start + series.values.length * stepMs);
      for (const v of forecast.mean) {
        expect(Number.isFinite(v)).toBe(true);
        // A daily wave between about 110 and 290: an hour ahead stays in that neighbourhood.
        expect(v).toBeGreaterThan(60);
        expect(v).toBeLessThan(340);
      }
    }
  });

  it('gives about the same forecast for the same signal sampled every minute and every 5 minutes', () => {
    const signal = (t: number): number => 100 + 40 * Math.sin((2 * Math.PI * t) / DAY) + 10 * Math.sin((2 * Math.PI * t) / (3 * HOUR));
    const fine = makeSeries(2 * 24 * 60, MINUTE, (i) => signal(i * MINUTE));
    const coarse: Series = { start: START + 4 * MINUTE, stepMs: FIVE_MINUTES, values: Array.from({ length: 2 * 288 }, (_, k) => signal((5 * k + 2) * MINUTE)) };
    const a = fitted(fine, false).predict(60, [0.5]).mean;
    const b = fitted(coarse, false).predict(12, [0.5]).mean;
    for (let k = 0; k < 12; k++) expect(Math.abs(a[5 * k + 4] - b[k])).toBeLessThan(0.05 * 100);
  });

  it('keeps every forecast monotone in the level and finite, for any history and levels (property)', () => {
    const steps = [MINUTE, FIVE_MINUTES, 30 * MINUTE];
    fc.assert(
      fc.property(
        fc.constantFrom(...steps),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 40 }),
        fc.uniqueArray(fc.double({ min: 0.001, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 40 }),
        (stepMs, repeat, pattern, levels, horizon) => {
          const length = Math.max(Math.ceil((2 * HOUR) / stepMs), pattern.length * repeat);
          const series = makeSeries(length, stepMs, (i) => pattern[i % pattern.length] * (1 + (i % 3) / 10));
          const forecaster = new PretrainedForecaster({ model });
          try {
            forecaster.fit(series);
          } catch (error) {
            if (error instanceof InsufficientHistoryError) return;
            throw error;
          }
          const sorted = [...levels].sort((a, b) => a - b);
          const forecast = forecaster.predict(horizon, sorted);
          for (let j = 0; j < horizon; j++) {
            for (let l = 0; l < sorted.length; l++) {
              const v = forecast.quantiles[l].values[j];
              expect(Number.isFinite(v)).toBe(true);
              expect(v).toBeGreaterThanOrEqual(0);
              if (l > 0) expect(v).toBeGreaterThanOrEqual(forecast.quantiles[l - 1].values[j]);
            }
          }
        },
      ),
      { numRuns: 60, seed: 15 },
    );
  });

  it('fine-tunes on a day of the scaler own history: a pattern the global model lacks fits better in and out of sample', () => {
    // A 100-minute sawtooth: no daily or weekly lag explains it, only the scaler's own windows do.
    const period = 20;
    const series = makeSeries(4 * 288, FIVE_MINUTES, (i) => 100 + 60 * ((i % period) / period));
    const history: Series = { ...series, values: series.values.slice(0, 3 * 288) };
    const tuned = fitted(history, true);
    const global = fitted(history, false);
    const described = tuned.describe();
    expect(described.fineTuned).toBe(true);
    expect(described.inSampleMaeTuned as number).toBeLessThan(0.8 * (described.inSampleMaeGlobal as number));
    expect(global.describe().fineTuned).toBe(false);

    let tunedError = 0;
    let globalError = 0;
    for (let origin = 3 * 288; origin < 4 * 288 - 24; origin += 7) {
      const upTo: Series = { ...series, values: series.values.slice(0, origin) };
      tuned.update(upTo);
      global.update(upTo);
      const actual = series.values.slice(origin, origin + 12);
      const a = tuned.predict(12, [0.5]).mean;
      const b = global.predict(12, [0.5]).mean;
      for (let h = 0; h < 12; h++) {
        tunedError += Math.abs(actual[h] - a[h]);
        globalError += Math.abs(actual[h] - b[h]);
      }
    }
    expect(tunedError).toBeLessThan(0.9 * globalError);
  });

  it('does not fine-tune on less than a day of history', () => {
    expect(fitted(wave(0.9, FIVE_MINUTES)).describe().fineTuned).toBe(false);
  });

  it('update() takes the new context and keeps the head of the last fit', () => {
    const series = wave(3, FIVE_MINUTES);
    const forecaster = fitted({ ...series, values: series.values.slice(0, 2 * 288) });
    const before = forecaster.describe();
    forecaster.update(series);
    const after = forecaster.describe();
    expect(after.tuningWindows).toBe(before.tuningWindows);
    expect(after.inSampleMaeTuned).toBe(before.inSampleMaeTuned);
    expect(forecaster.predict(3, [0.5]).start).toBe(series.start + series.values.length * FIVE_MINUTES);
  });

  it('exports only the head and the weights digest; an imported head forecasts as the original after update()', () => {
    const series = wave(3, FIVE_MINUTES);
    const original = fitted(series);
    const state = JSON.parse(JSON.stringify(original.exportState()));
    expect(state.weightsSha256).toBe(model.sha256);
    expect(JSON.stringify(state).length).toBeLessThan(30_000);
    const restored = new PretrainedForecaster({ model });
    restored.importState(state);
    expect(() => restored.predict(3, LEVELS)).toThrow(/update\(\) must be called/);
    restored.update(series);
    expect(restored.predict(12, LEVELS)).toEqual(original.predict(12, LEVELS));
  });

  it('refuses hostile or foreign states with IncompatibleStateError and keeps what it had', () => {
    const series = wave(2, FIVE_MINUTES);
    const forecaster = fitted(series);
    const good = forecaster.exportState();
    const tuned = good.tuned as Record<string, unknown>;
    const expected = forecaster.predict(6, LEVELS);
    const corpus: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [{ ...good, model: 'HoltWinters' }, /not Pretrained/],
      [{ ...good, format: 2 }, /format 2/],
      [{ ...good, fineTune: false }, /fineTune/],
      [{ ...good, weightsSha256: 'f'.repeat(64) }, /tuned from global weights/],
      [{ ...good, weightsSha256: undefined }, /tuned from global weights/],
      [{ ...good, hidden: 63 }, /hidden/],
      [{ ...good, tuned: 'x' }, /tuned must be an object/],
      [{ ...good, tuned: { ...tuned, delta: 'not base64!' } }, /delta must be a base64 string/],
      [{ ...good, tuned: { ...tuned, delta: Buffer.alloc(8 * 10).toString('base64') } }, /delta holds 10 values/],
      [{ ...good, tuned: { ...tuned, delta: nanDelta(tuned.delta as string) } }, /non-finite/],
      [{ ...good, tuned: { ...tuned, delta: hugeDelta(tuned.delta as string) } }, /beyond/],
      [{ ...good, tuned: { ...tuned, windows: -1 } }, /windows must be at least 1/],
      [{ ...good, tuned: { ...tuned, inSampleMaeTuned: Infinity } }, /finite/],
    ];
    for (const [state, message] of corpus) {
      expect(() => forecaster.importState(state as never)).toThrow(IncompatibleStateError);
      expect(() => forecaster.importState(state as never)).toThrow(message);
      expect(forecaster.predict(6, LEVELS)).toEqual(expected);
    }
  });
});

function nanDelta(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64');
  bytes.writeDoubleLE(NaN, 8);
  return bytes.toString('base64');
}

function hugeDelta(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64');
  bytes.writeDoubleLE(1e200, 0);
  return bytes.toString('base64');
}
