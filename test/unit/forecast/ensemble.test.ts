import { describe, expect, it } from 'vitest';
import { EnsembleForecaster } from '../../../src/forecast/ensemble.js';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import type { Forecast, Forecaster, Series } from '../../../src/forecast/types.js';
import { dailySine } from './fixtures.js';

/** Forecasts a constant, whatever the history. */
class Constant implements Forecaster {
  private series: Series | undefined;
  constructor(
    readonly name: string,
    private readonly value: number,
  ) {}
  minHistoryPoints(): number {
    return 2;
  }
  fit(series: Series): void {
    this.series = series;
  }
  predict(steps: number, quantiles: number[]): Forecast {
    const s = this.series!;
    const mean = Array(steps).fill(this.value);
    return { model: this.name, start: s.start + s.values.length * s.stepMs, stepMs: s.stepMs, mean, quantiles: quantiles.map((q) => ({ q, values: mean.map((m) => m + (q - 0.5) * 10) })) };
  }
  describe() {
    return { model: this.name };
  }
}

describe('EnsembleForecaster', () => {
  const series = dailySine(3, 30, 3);

  it('weights members by inverse validation error, drops members far worse than the best, and blends their forecasts', () => {
    const e = new EnsembleForecaster({
      members: [
        { name: 'hw', make: () => new HoltWintersForecaster({ seasonality: [86_400_000] }) },
        { name: 'way-off', make: () => new Constant('way-off', 10_000) },
      ],
      horizonSteps: 12,
    });
    e.fit(series);
    const members = e.describe().members as { name: string; weight: number; dropped?: string }[];
    expect(members.find((m) => m.name === 'hw')!.weight).toBe(1);
    expect(members.find((m) => m.name === 'way-off')).toMatchObject({ weight: 0, dropped: expect.stringMatching(/over 1.5x the best/) });
    const hw = new HoltWintersForecaster({ seasonality: [86_400_000] });
    hw.fit(series);
    expect(e.predict(12, [0.5]).mean).toEqual(hw.predict(12, [0.5]).mean);
  });

  it('averages close members with weights that sum to one, keeping quantiles ordered', () => {
    const e = new EnsembleForecaster({
      members: [
        { name: 'a', make: () => new Constant('a', 99) },
        { name: 'b', make: () => new Constant('b', 102) },
      ],
      horizonSteps: 12,
    });
    e.fit(dailySine(3, 0, 3)); // flat at 100 with noise: both members are nearly as good
    const members = e.describe().members as { weight: number }[];
    expect(members.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 12);
    const f = e.predict(6, [0.1, 0.5, 0.9]);
    for (const v of f.mean) expect(v).toBeGreaterThan(99);
    for (const v of f.mean) expect(v).toBeLessThan(102);
    f.mean.forEach((_, h) => {
      expect(f.quantiles[0]!.values[h]!).toBeLessThanOrEqual(f.quantiles[1]!.values[h]!);
      expect(f.quantiles[1]!.values[h]!).toBeLessThanOrEqual(f.quantiles[2]!.values[h]!);
    });
  });
});
