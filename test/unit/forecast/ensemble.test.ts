import { describe, expect, it } from 'vitest';
import { mase, seasonalNaiveScale } from '../../../src/forecast/accuracy.js';
import { backtest } from '../../../src/forecast/backtest.js';
import { EnsembleForecaster, type EnsembleMember } from '../../../src/forecast/ensemble.js';
import { requireHistory, NotFittedError } from '../../../src/forecast/history.js';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { IncompatibleStateError, type Forecast, type Forecaster, type ForecasterState, type Seasonality, type Series } from '../../../src/forecast/types.js';
import { dailySine, FIVE_MINUTES, gaussian, makeSeries } from './fixtures.js';
import { createForecaster } from '../../../src/forecast/registry.js';

const DAY_MS = 86_400_000;

/**
 * Forecasts a level: a fixed one, or (learn: true) the mean of the history it was fitted on, kept
 * by update(). Logs what was called on it, and with how many points.
 */
class Level implements Forecaster {
  readonly log: string[] = [];
  private level: number | undefined;
  private series: Series | undefined;
  constructor(
    readonly name: string,
    private readonly spec: { fixed?: number; minPoints?: number; failFit?: boolean; rejectState?: boolean },
  ) {}
  minHistoryPoints(): number {
    return this.spec.minPoints ?? 2;
  }
  fit(series: Series): void {
    this.log.push(`fit ${series.values.length}`);
    requireHistory(this, series);
    if (this.spec.failFit) throw new Error('boom');
    this.level = this.spec.fixed ?? series.values.reduce((a, b) => a + b, 0) / series.values.length;
    this.series = series;
  }
  update(series: Series): void {
    this.log.push(`update ${series.values.length}`);
    if (this.level === undefined) throw new NotFittedError(this.name);
    this.series = series;
  }
  predict(steps: number, quantiles: number[]): Forecast {
    const s = this.series;
    if (!s || this.level === undefined) throw new NotFittedError(this.name);
    const mean = Array<number>(steps).fill(this.level);
    return { model: this.name, start: s.start + s.values.length * s.stepMs, stepMs: s.stepMs, mean, quantiles: quantiles.map((q) => ({ q, values: mean.map((m) => m + (q - 0.5) * 10) })) };
  }
  describe() {
    return { model: this.name };
  }
  exportState(): ForecasterState {
    if (this.level === undefined) throw new NotFittedError(this.name);
    return { model: 'Level', format: 1, level: this.level };
  }
  importState(state: ForecasterState): void {
    this.log.push(`import ${String(state.level)}`);
    if (this.spec.rejectState || state.model !== 'Level' || typeof state.level !== 'number') throw new IncompatibleStateError('not a Level state');
    this.level = state.level;
  }
}

/** A member whose instances are kept, to look at what the ensemble did with them. */
function recorded(name: string, spec: ConstructorParameters<typeof Level>[1]): EnsembleMember & { made: Level[] } {
  const made: Level[] = [];
  return {
    name,
    made,
    make: () => {
      const level = new Level(name, spec);
      made.push(level);
      return level;
    },
  };
}

interface Scored {
  name: string;
  weight: number;
  mase?: number;
  dropped?: string;
}

function members(e: EnsembleForecaster): Scored[] {
  return e.describe().members as Scored[];
}

function member(e: EnsembleForecaster, name: string): Scored {
  return members(e).find((m) => m.name === name)!;
}

function head(series: Series, length: number): Series {
  return { ...series, values: series.values.slice(0, length) };
}

/** MASE of a constant forecast over the folds, scored as backtest() scores. */
function constantMase(series: Series, value: number, folds: number, horizon: number): number {
  const n = series.values.length;
  let total = 0;
  for (let k = 0; k < folds; k++) {
    const origin = n - (folds - k) * horizon;
    const actual = series.values.slice(origin, origin + horizon);
    total += mase(actual, Array<number>(horizon).fill(value), seasonalNaiveScale(series.values.slice(0, origin), series.stepMs));
  }
  return total / folds;
}

describe('EnsembleForecaster validation', () => {
  const series = dailySine(3, 30, 3); // 864 five-minute points
  const n = series.values.length;

  it('fits each member once, before the first fold, and walks it through the folds and to the end with update()', () => {
    const level = recorded('level', { fixed: 100 });
    const e = new EnsembleForecaster({ members: [level], horizonSteps: 12, validationFolds: 4 });
    e.fit(series);
    expect(level.made.at(-1)!.log).toEqual([`fit ${n - 48}`, `update ${n - 36}`, `update ${n - 24}`, `update ${n - 12}`, `update ${n}`]);
  });

  it('refits a refitAtOrigin member on the whole history once chosen, releasing its validation fit', () => {
    const cheap = { ...recorded('cheap', {}), refitAtOrigin: true };
    const e = new EnsembleForecaster({ members: [cheap], horizonSteps: 12, validationFolds: 4 });
    e.fit(series);
    // (the first instance only answered minHistoryPoints)
    expect(cheap.made).toHaveLength(3);
    expect(cheap.made[1]!.log).toEqual([`fit ${n - 48}`, `update ${n - 36}`, `update ${n - 24}`, `update ${n - 12}`]);
    expect(cheap.made[2]!.log).toEqual([`fit ${n}`]);
    // The forecast is the refitted one: the mean of the whole history, not of the prefix.
    const mean = series.values.reduce((a, b) => a + b, 0) / n;
    expect(e.predict(1, [0.5]).mean[0]).toBeCloseTo(mean, 9);
  });

  it('drops a refitAtOrigin member whose refit fails, saying so', () => {
    let made = 0;
    // Instances: one answers minHistoryPoints, one validates, the third (the refit) fails.
    const flaky: EnsembleMember = { name: 'flaky', refitAtOrigin: true, make: () => new Level('flaky', { failFit: made++ > 1 }) };
    const e = new EnsembleForecaster({ members: [flaky, { name: 'steady', make: () => new Level('steady', {}) }], horizonSteps: 12, validationFolds: 4, dropRatio: 100 });
    e.fit(series);
    expect(member(e, 'flaky')).toMatchObject({ weight: 0, dropped: 'refit on the full history failed: boom' });
    expect(member(e, 'steady').weight).toBe(1);
  });

  it('scores members on the folds and scale backtest() uses', () => {
    const make = { SeasonalNaive: () => new SeasonalNaiveForecaster(), Linear: () => new LinearForecaster() };
    const e = new EnsembleForecaster({ members: Object.entries(make).map(([name, m]) => ({ name, make: m })), horizonSteps: 12, validationFolds: 4, dropRatio: 100 });
    e.fit(series);
    // Both re-fit on update(), so walking forward must give exactly the refit-per-fold scores.
    const reference = backtest(series, make, { horizonSteps: 12, warmupSteps: n - 48, folds: 4, quantile: 0.5 });
    for (const model of reference.models) expect(member(e, model.name).mase).toBeCloseTo(model.mase, 12);
  });

  it('scores with parameters learned before the first origin, not on the history being scored', () => {
    // The level jumps inside the validation span: a member that learned it would score near zero.
    const jump = { ...series, values: series.values.map((v, i) => v + (i < n - 30 ? 0 : 400)) };
    const e = new EnsembleForecaster({ members: [{ name: 'mean', make: () => new Level('mean', {}) }], horizonSteps: 12, validationFolds: 4 });
    e.fit(jump);
    const prefixMean = jump.values.slice(0, n - 48).reduce((a, b) => a + b, 0) / (n - 48);
    expect(member(e, 'mean').mase).toBeCloseTo(constantMase(jump, prefixMean, 4, 12), 9);
    expect(member(e, 'mean').mase).toBeGreaterThan(5);
  });

  it('weights members by inverse validation MASE', () => {
    const flat = dailySine(3, 0, 0.5);
    // On either side of the level 100: their blend beats both, so both are blended.
    const e = new EnsembleForecaster({
      members: [
        { name: 'close', make: () => new Level('close', { fixed: 100.5 }) },
        { name: 'further', make: () => new Level('further', { fixed: 99.4 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(flat);
    const close = member(e, 'close');
    const further = member(e, 'further');
    expect(close.mase).toBeCloseTo(constantMase(flat, 100.5, 4, 12), 9);
    expect(further.mase).toBeCloseTo(constantMase(flat, 99.4, 4, 12), 9);
    expect(close.weight).toBeGreaterThan(further.weight);
    expect(close.weight / further.weight).toBeCloseTo(further.mase! / close.mase!, 9);
    expect(close.weight + further.weight).toBeCloseTo(1, 12);
  });

  it('serves the best member alone when it beat the blend on the validation folds, saying why the others are out', () => {
    const flat = dailySine(3, 0, 3);
    // Both above the level 100: any blend lies between them, so it is worse than the closer one.
    const e = new EnsembleForecaster({
      members: [
        { name: 'close', make: () => new Level('close', { fixed: 101 }) },
        { name: 'further', make: () => new Level('further', { fixed: 103 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(flat);
    const close = member(e, 'close');
    expect(close.weight).toBe(1);
    expect(member(e, 'further')).toMatchObject({ weight: 0, dropped: expect.stringMatching(/^close alone \(validation MASE [0-9.]+\) beat the blend \([0-9.]+\) on [34] of 4 folds$/) });
    expect(e.describe().mase).toBeCloseTo(close.mase!, 12);
    expect(e.predict(6, [0.5]).mean).toEqual(Array(6).fill(101));
  });

  it('keeps the blend when the best member beat it on the mean only through a minority of folds', () => {
    // Level 100, then a drop to 70 over the last fold. 'low' (99) is the better member on the mean,
    // thanks to that one fold; the blend (about 100.7) is closer on the other three.
    const n = 3 * 288;
    const next = gaussian(7);
    const shifted = makeSeries(n, FIVE_MINUTES, (i) => (i >= n - 12 ? 70 : 100) + 0.1 * next());
    const e = new EnsembleForecaster({
      members: [
        { name: 'low', make: () => new Level('low', { fixed: 99 }) },
        { name: 'high', make: () => new Level('high', { fixed: 103 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(shifted);
    const low = member(e, 'low');
    const high = member(e, 'high');
    expect(low.mase).toBeLessThan(high.mase!);
    // The blend lost to 'low' on the mean...
    expect(e.describe().mase).toBeGreaterThan(low.mase!);
    // ...and is served all the same: 'low' beat it on one fold of four.
    expect(low.weight).toBeGreaterThan(0);
    expect(high.weight).toBeGreaterThan(0);
    expect(high.dropped).toBeUndefined();
    expect(low.weight + high.weight).toBeCloseTo(1, 12);
  });

  it('falls back to the blend of the others when the best member cannot be brought to the full history', () => {
    const flat = dailySine(3, 0, 3);
    // 'close' validates, then its refit on the full history fails.
    class FailsOnTheFullHistory extends Level {
      override fit(series: Series): void {
        if (series.values.length === flat.values.length) throw new Error('no');
        super.fit(series);
      }
    }
    const failingRefit: EnsembleMember = { name: 'close', refitAtOrigin: true, make: () => new FailsOnTheFullHistory('close', { fixed: 101 }) };
    const e = new EnsembleForecaster({
      members: [failingRefit, { name: 'further', make: () => new Level('further', { fixed: 103 }) }, { name: 'far', make: () => new Level('far', { fixed: 104 }) }],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(flat);
    expect(member(e, 'close')).toMatchObject({ weight: 0, dropped: expect.stringMatching(/^refit on the full history failed/) });
    expect(member(e, 'further').weight + member(e, 'far').weight).toBeCloseTo(1, 12);
    expect(member(e, 'further').dropped).toBeUndefined();
  });

  it('drops a member far worse than the best, one that fails and one the history before the folds is too short for', () => {
    const e = new EnsembleForecaster({
      members: [
        { name: 'hw', make: () => new HoltWintersForecaster({ seasonality: [DAY_MS] }) },
        { name: 'way-off', make: () => new Level('way-off', { fixed: 10_000 }) },
        { name: 'broken', make: () => new Level('broken', { failFit: true }) },
        { name: 'needy', make: () => new Level('needy', { fixed: 100, minPoints: n - 10 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(series);
    expect(member(e, 'hw').weight).toBe(1);
    expect(member(e, 'way-off')).toMatchObject({ weight: 0, dropped: expect.stringMatching(/over 1.5x the best/) });
    expect(member(e, 'broken')).toMatchObject({ weight: 0, dropped: 'validation failed: boom' });
    expect(member(e, 'needy')).toMatchObject({ weight: 0, dropped: expect.stringMatching(/^too little history before the validation folds/) });
    const hw = new HoltWintersForecaster({ seasonality: [DAY_MS] });
    hw.fit(head(series, n - 48));
    hw.update(series);
    expect(e.predict(12, [0.5]).mean).toEqual(hw.predict(12, [0.5]).mean);
  });

  it('reports the MASE of the weighted blend on the same folds', () => {
    const flat = dailySine(3, 0, 3);
    const e = new EnsembleForecaster({
      members: [
        { name: 'low', make: () => new Level('low', { fixed: 97 }) },
        { name: 'high', make: () => new Level('high', { fixed: 104 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(flat);
    const low = member(e, 'low');
    const high = member(e, 'high');
    const blended = low.weight * 97 + high.weight * 104;
    const own = e.describe().mase as number;
    expect(own).toBeCloseTo(constantMase(flat, blended, 4, 12), 9);
    // Errors on either side cancel: the blend beats both members, which a weighted mean of their MASE cannot.
    expect(own).toBeLessThan(Math.min(low.mase!, high.mase!));
  });

  it('averages close members with weights that sum to one, keeping quantiles ordered', () => {
    const e = new EnsembleForecaster({
      members: [
        { name: 'a', make: () => new Level('a', { fixed: 99 }) },
        { name: 'b', make: () => new Level('b', { fixed: 102 }) },
      ],
      horizonSteps: 12,
      validationFolds: 4,
    });
    e.fit(dailySine(3, 0, 3));
    expect(members(e).reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 12);
    const f = e.predict(6, [0.1, 0.5, 0.9]);
    for (const v of f.mean) expect(v).toBeGreaterThan(99);
    for (const v of f.mean) expect(v).toBeLessThan(102);
    f.mean.forEach((_, h) => {
      expect(f.quantiles[0]!.values[h]!).toBeLessThanOrEqual(f.quantiles[1]!.values[h]!);
      expect(f.quantiles[1]!.values[h]!).toBeLessThanOrEqual(f.quantiles[2]!.values[h]!);
    });
  });

  it('rejects duplicate member names', () => {
    const make = () => new Level('x', {});
    expect(() => new EnsembleForecaster({ members: [{ name: 'x', make }, { name: 'x', make }] })).toThrow(/unique/);
  });
});

describe('EnsembleForecaster validation span', () => {
  const series = dailySine(3, 30, 3); // 864 five-minute points, 288 a day
  const n = series.values.length;
  const level = (minPoints: number) => ({ name: 'level', make: () => new Level('level', { fixed: 100, minPoints }) });

  it('validates by default on as many folds as cover a day, scored on exactly those folds', () => {
    const e = new EnsembleForecaster({ members: [level(288)], horizonSteps: 12 });
    expect(e.validationFoldCount(n, series.stepMs)).toBe(24);
    e.fit(series);
    expect(member(e, 'level').mase).toBeCloseTo(constantMase(series, 100, 24, 12), 9);
  });

  it('validates on fewer folds when the history before them would be too short for a member, never on fewer than four', () => {
    expect(new EnsembleForecaster({ members: [level(2), level(700)].map((m, i) => ({ ...m, name: `m${i}` })), horizonSteps: 12 }).validationFoldCount(n, series.stepMs)).toBe(13);
    expect(new EnsembleForecaster({ members: [level(850)], horizonSteps: 12 }).validationFoldCount(n, series.stepMs)).toBe(4);
    expect(new EnsembleForecaster({ members: [level(2)], horizonSteps: 12, validationSpanMs: 3_600_000 }).validationFoldCount(n, series.stepMs)).toBe(4);
    expect(new EnsembleForecaster({ members: [level(2)], horizonSteps: 12, validationFolds: 7 }).validationFoldCount(n, series.stepMs)).toBe(7);
    // The least history the Ensemble asks for stays the least member's plus four folds.
    expect(new EnsembleForecaster({ members: [level(288)], horizonSteps: 12 }).minHistoryPoints(series.stepMs)).toBe(288 + 4 * 12);
  });

  it('chooses on the whole day: a daily peak outside the last horizons still counts against the member that misses it', () => {
    // Flat at 100 with noise, and a 3-hour plateau at 400 every day that ended 4 hours before the end.
    const perDay = 288;
    const next = gaussian(7);
    const peaked: Series = makeSeries(3 * perDay, FIVE_MINUTES, (i) => {
      const phase = (i + 4 * 12 + 36) % perDay;
      return (phase < 36 ? 400 : 100) + 2 * next();
    });
    const make = () => [
      { name: 'flat', make: () => new Level('flat', { fixed: 100 }) },
      { name: 'SeasonalNaive', make: () => new SeasonalNaiveForecaster({ seasonality: [DAY_MS] }) },
    ];
    // Four folds see only the flat hours: the flat member alone beats anything with the season in it.
    const short = new EnsembleForecaster({ members: make(), horizonSteps: 12, validationFolds: 4 });
    short.fit(peaked);
    expect(member(short, 'flat').weight).toBe(1);
    // A day of folds sees the plateau: the seasonal member carries the forecast.
    const day = new EnsembleForecaster({ members: make(), horizonSteps: 12 });
    day.fit(peaked);
    expect(member(day, 'SeasonalNaive').weight).toBeGreaterThan(0.5);
  });

  it('is a day for the registry\'s Ensemble unless a shorter season is declared', () => {
    const at = (seasonality: Seasonality) => (createForecaster('Ensemble', { seasonality, horizonSteps: 12 }) as EnsembleForecaster).validationFoldCount(10 * 288, series.stepMs);
    expect(at('Auto')).toBe(24);
    expect(at('None')).toBe(24);
    expect(at([DAY_MS, 7 * DAY_MS])).toBe(24);
    expect(at([6 * 3_600_000])).toBe(6);
    expect(at([3_600_000])).toBe(4);
  });
});

describe('EnsembleForecaster warm start', () => {
  const series = dailySine(3, 30, 3);

  it('hands each member its previous state before the next fit', () => {
    const level = recorded('level', {});
    const e = new EnsembleForecaster({ members: [level], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    const previous = level.made.at(-1)!.exportState();
    e.fit(series);
    expect(level.made.at(-1)!.log.slice(0, 2)).toEqual([`import ${String(previous.level)}`, `fit ${series.values.length - 48}`]);
  });

  it('fits a member cold when it rejects its previous state', () => {
    const picky = recorded('picky', { rejectState: true });
    const e = new EnsembleForecaster({ members: [picky], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    e.fit(series);
    expect(picky.made.at(-1)!.log[0]).toBe(`fit ${series.values.length - 48}`);
    expect(member(e, 'picky').weight).toBe(1);
  });
});

describe('EnsembleForecaster costly members (refitEveryMs)', () => {
  const series = dailySine(3, 30, 3); // 864 five-minute points
  const n = series.values.length;
  const costly = (spec: ConstructorParameters<typeof Level>[1], refitEveryMs = DAY_MS) => ({ ...recorded('costly', spec), refitEveryMs });
  const fitsIn = (level: Level) => level.log.filter((line) => line.startsWith('fit'));

  it('walks its last fit to the next folds while that fit is recent, without fitting it again', () => {
    const net = costly({});
    const e = new EnsembleForecaster({ members: [net], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    const first = net.made.at(-1)!;
    expect(fitsIn(first)).toEqual(['fit 552']);
    expect(e.describe().fits).toEqual({ costly: 'fitted' });
    const level = first.exportState().level;
    // 264 steps (22 h) later: the first fold moved less than a day past the fit.
    e.fit(series);
    const second = net.made.at(-1)!;
    expect(second.log).toEqual([`import ${String(level)}`, `update ${n - 48}`, `update ${n - 36}`, `update ${n - 24}`, `update ${n - 12}`, `update ${n}`]);
    expect(second.exportState().level).toBe(level);
    expect(e.describe().fits).toEqual({ costly: `walked from its fit through ${new Date(series.start + 552 * FIVE_MINUTES).toISOString()}` });
  });

  it('keeps the walked fit out of sample: the folds are scored as by the fit before the earlier first fold', () => {
    const net = costly({});
    const walked = new EnsembleForecaster({ members: [net], horizonSteps: 12, validationFolds: 4 });
    walked.fit(head(series, 600));
    walked.fit(series);
    const level = net.made.at(-1)!.exportState().level as number;
    expect(level).toBeCloseTo(series.values.slice(0, 552).reduce((a, b) => a + b, 0) / 552, 9);
    expect(walked.describe().mase).toBeCloseTo(constantMase(series, level, 4, 12), 9);
  });

  it('fits it again once the first fold has moved refitEveryMs past its last fit', () => {
    const net = costly({}, 22 * 3_600_000);
    const e = new EnsembleForecaster({ members: [net], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    e.fit(series);
    expect(fitsIn(net.made.at(-1)!)).toEqual([`fit ${n - 48}`]);
    expect(e.describe().fits).toEqual({ costly: 'fitted' });
  });

  it('fits it again when the history no longer reaches past its last fit', () => {
    const net = costly({});
    const e = new EnsembleForecaster({ members: [net], horizonSteps: 12, validationFolds: 4 });
    e.fit(series);
    e.fit(head(series, 600));
    expect(fitsIn(net.made.at(-1)!)).toEqual(['fit 552']);
  });

  it('fits it again when its held state is rejected', () => {
    const net = costly({ rejectState: true });
    const e = new EnsembleForecaster({ members: [net], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    e.fit(series);
    expect(fitsIn(net.made.at(-1)!)).toEqual([`fit ${n - 48}`]);
  });

  it('keeps the fit of a costly member that was dropped, and walks it at the next fit', () => {
    const net = costly({ fixed: 10_000 });
    const close = recorded('close', { fixed: 101 });
    const e = new EnsembleForecaster({ members: [net, close], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    expect(member(e, 'costly').dropped).toMatch(/over 1.5x/);
    e.fit(series);
    expect(fitsIn(net.made.at(-1)!)).toEqual([]);
    expect(net.made.at(-1)!.log[0]).toBe('import 10000');
  });

  it('starts the refit of a dropped costly member from its held fit', () => {
    const net = costly({ fixed: 10_000 }, 3_600_000);
    const e = new EnsembleForecaster({ members: [net, recorded('close', { fixed: 101 })], horizonSteps: 12, validationFolds: 4 });
    e.fit(head(series, 600));
    e.fit(series);
    expect(net.made.at(-1)!.log.slice(0, 2)).toEqual(['import 10000', `fit ${n - 48}`]);
  });

  it('carries its held fit through exportState() and importState()', () => {
    const make = () => ({ members: [costly({ fixed: 10_000 }), recorded('close', { fixed: 101 })], horizonSteps: 12, validationFolds: 4 });
    const original = new EnsembleForecaster(make());
    original.fit(head(series, 600));
    const state = JSON.parse(JSON.stringify(original.exportState())) as ForecasterState;
    expect(state.held).toEqual([{ name: 'costly', fittedThrough: series.start + 552 * FIVE_MINUTES, state: { model: 'Level', format: 1, level: 10_000 } }]);
    const options = make();
    const restored = new EnsembleForecaster(options);
    restored.importState(state);
    restored.fit(series);
    const net = options.members[0]!;
    expect(fitsIn(net.made.at(-1)!)).toEqual([]);
  });

  it.each([
    ['held fits that are not a list', { held: 'all' }],
    ['a held fit of an unknown member', { held: [{ name: 'Prophet', fittedThrough: 0, state: { model: 'Level', format: 1 } }] }],
    ['a held fit without a time', { held: [{ name: 'costly', fittedThrough: 'yesterday', state: { model: 'Level', format: 1 } }] }],
    ['a held fit without a state', { held: [{ name: 'costly', fittedThrough: 0 }] }],
    ['a member held twice', { held: [0, 1].map(() => ({ name: 'costly', fittedThrough: 0, state: { model: 'Level', format: 1 } })) }],
  ])('rejects a state with %s', (_, change) => {
    const make = () => ({ members: [costly({}), recorded('close', { fixed: 101 })], horizonSteps: 12, validationFolds: 4 });
    const original = new EnsembleForecaster(make());
    original.fit(head(series, 600));
    const state = { ...(JSON.parse(JSON.stringify(original.exportState())) as ForecasterState), ...change };
    expect(() => new EnsembleForecaster(make()).importState(state)).toThrow(IncompatibleStateError);
  });
});

describe('EnsembleForecaster state', () => {
  const series = dailySine(3, 30, 3);
  const n = series.values.length;
  const options = () => ({
    members: [
      { name: 'HoltWinters', make: () => new HoltWintersForecaster({ seasonality: [DAY_MS] }) },
      { name: 'SeasonalNaive', make: () => new SeasonalNaiveForecaster() },
      { name: 'Linear', make: () => new LinearForecaster() },
      { name: 'way-off', make: () => new Level('way-off', { fixed: 10_000 }) },
    ],
    horizonSteps: 12,
    validationFolds: 4,
  });

  function fittedEnsemble(): EnsembleForecaster {
    const e = new EnsembleForecaster(options());
    e.fit(head(series, n - 24));
    return e;
  }

  it('refuses to export before fit()', () => {
    expect(() => new EnsembleForecaster(options()).exportState()).toThrow(NotFittedError);
  });

  it('round-trips through JSON: the same scores, and the same forecasts after update()', () => {
    const original = fittedEnsemble();
    const state = JSON.parse(JSON.stringify(original.exportState())) as ForecasterState;
    expect((state.members as { name: string }[]).map((m) => m.name)).not.toContain('way-off');
    const restored = new EnsembleForecaster(options());
    restored.importState(state);
    expect(restored.describe()).toEqual(original.describe());
    original.update(series);
    restored.update(series);
    expect(restored.predict(36, [0.1, 0.5, 0.9])).toEqual(original.predict(36, [0.1, 0.5, 0.9]));
  });

  describe('rejects a bad state and keeps what it had', () => {
    const good = () => JSON.parse(JSON.stringify(fittedEnsemble().exportState())) as ForecasterState & { members: Record<string, unknown>[] };
    const cases: [string, (s: ReturnType<typeof good>) => unknown][] = [
      ['another model', (s) => ({ ...s, model: 'LSTM' })],
      ['another format', (s) => ({ ...s, format: 2 })],
      ['another horizon', (s) => ({ ...s, horizonSteps: 6 })],
      ['an unknown member', (s) => ({ ...s, members: [{ ...s.members[0], name: 'Prophet' }, ...s.members.slice(1)] })],
      ['no members', (s) => ({ ...s, members: [] })],
      ['weights that do not sum to one', (s) => ({ ...s, members: s.members.map((m) => ({ ...m, weight: 0.1 })) })],
      ['a member state the member rejects', (s) => ({ ...s, members: [s.members[0], { ...s.members[1], state: { ...(s.members[0]!.state as object) } }, ...s.members.slice(2)] })],
      ['a malformed member state', (s) => ({ ...s, members: [...s.members.slice(0, -1), { ...s.members.at(-1), state: { ...(s.members.at(-1)!.state as object), format: 99 } }] })],
      ['scores that are not a list', (s) => ({ ...s, scores: 'good' })],
      ['a negative MASE', (s) => ({ ...s, mase: -1 })],
      ['not an object', () => null],
    ];

    it.each(cases)('%s', (_, corrupt) => {
      const target = new EnsembleForecaster(options());
      target.importState(good());
      target.update(series);
      const before = target.predict(12, [0.5, 0.9]);
      const description = target.describe();
      expect(() => target.importState(corrupt(good()) as ForecasterState)).toThrow(IncompatibleStateError);
      expect(target.describe()).toEqual(description);
      expect(target.predict(12, [0.5, 0.9])).toEqual(before);
    });

    it('leaves an unfitted ensemble unfitted', () => {
      const target = new EnsembleForecaster(options());
      expect(() => target.importState({ ...good(), format: 2 })).toThrow(IncompatibleStateError);
      expect(() => target.predict(12, [0.5])).toThrow(NotFittedError);
    });
  });
});
