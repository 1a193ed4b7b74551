import { describe, expect, it } from 'vitest';
import { LiveError, type DriftOptions } from '../../../src/controller/drift.js';
import type { Forecast, Series } from '../../../src/forecast/types.js';

const STEP = 5 * 60_000;
const T0 = Date.UTC(2026, 0, 5);

/** Alternating 0/1 (shorter than two days, so lag 1): the MASE scale is exactly 1, scores are plain MAEs. */
const UNIT_SCALE_HISTORY: Series = { start: T0, stepMs: STEP, values: Array.from({ length: 40 }, (_, i) => i % 2) };

function flat(originIndex: number, value: number, steps: number): Forecast {
  const mean = new Array<number>(steps).fill(value);
  return { model: 'Fake', start: T0 + originIndex * STEP, stepMs: STEP, mean, quantiles: [] };
}

function series(values: number[]): Series {
  return { start: T0, stepMs: STEP, values };
}

/**
 * Records one flat-zero forecast per horizon, back to back, and observes a series whose values over
 * forecast k's horizon are errors[k]: forecast k then scores exactly errors[k].
 */
function scoreErrors(live: LiveError, errors: number[], h: number): void {
  errors.forEach((_, k) => live.record(flat(k * h, 0, h)));
  live.observe(series(errors.flatMap((e) => new Array<number>(h).fill(e))));
}

function liveError(validationMase: number | undefined, options: Partial<DriftOptions> = {}): LiveError {
  return new LiveError(UNIT_SCALE_HISTORY, validationMase, { horizonSteps: 4, ...options });
}

describe('LiveError.record', () => {
  it('keeps one forecast per step: a second forecast within the same step is not scored again', () => {
    const live = liveError(1, { minSamples: 1 });
    live.record(flat(0, 5, 4));
    live.record({ ...flat(0, 100, 4), start: T0 + STEP / 2 }); // made later in the same step
    live.record(flat(1, 5, 4));

    live.observe(series(new Array<number>(10).fill(5)));

    // Both kept forecasts were exact; the dropped one would have scored 95.
    expect(live.verdict()).toMatchObject({ samples: 2, liveMase: 0 });
  });

  it('ignores a forecast shorter than the horizon', () => {
    const live = liveError(1);
    live.record(flat(0, 0, 3));
    live.observe(series(new Array<number>(10).fill(1)));
    expect(live.verdict()).toEqual({ drifting: false, samples: 0 });
  });
});

describe('LiveError.observe', () => {
  it('scores a forecast only once the series covers its whole horizon, on the MASE scale of the history', () => {
    const live = liveError(1, { minSamples: 1 });
    live.record(flat(10, 0, 4)); // predicts indices 10..13

    live.observe(series(new Array<number>(13).fill(2.5))); // up to index 12
    expect(live.verdict().samples).toBe(0);

    live.observe(series(new Array<number>(14).fill(2.5))); // index 13 arrived
    expect(live.verdict()).toMatchObject({ samples: 1, liveMase: 2.5 });

    live.observe(series(new Array<number>(20).fill(2.5))); // scored once only
    expect(live.verdict().samples).toBe(1);
  });

  it('divides by the seasonal-naive scale of the training history', () => {
    const doubled: Series = { ...UNIT_SCALE_HISTORY, values: UNIT_SCALE_HISTORY.values.map((v) => 2 * v) };
    const live = new LiveError(doubled, 1, { horizonSteps: 4, minSamples: 1 });
    scoreErrors(live, [3], 4);
    expect(live.verdict().liveMase).toBe(1.5);
  });

  it('averages over the last `window` scores only', () => {
    const live = liveError(1, { window: 2, minSamples: 1 });
    scoreErrors(live, [10, 10, 0.5, 0.5], 4);
    expect(live.verdict()).toMatchObject({ drifting: false, samples: 2, liveMase: 0.5 });
  });
});

describe('LiveError.verdict', () => {
  it.each([
    // validation MASE, live MASE, drifting: above 2x the validation error AND at least 0.25 above it
    { validation: 1, live: 2.1, drifting: true },
    { validation: 1, live: 2, drifting: false }, // not more than 2x
    { validation: 1, live: 1.9, drifting: false },
    { validation: 0.1, live: 0.3, drifting: false }, // 3x, but only 0.2 above
    { validation: 0.1, live: 0.4, drifting: true }, // 4x and 0.3 above
  ])('validation $validation, live $live: drifting $drifting', ({ validation, live: error, drifting }) => {
    const live = liveError(validation, { minSamples: 1 });
    scoreErrors(live, [error], 4);
    const verdict = live.verdict();
    expect(verdict.drifting).toBe(drifting);
    expect(verdict.liveMase).toBeCloseTo(error, 12);
    if (drifting) expect(verdict.message).toMatch(/live MASE .* more than 2x the validation MASE/);
    else expect(verdict.message).toBeUndefined();
  });

  it('uses the configured ratio and margin', () => {
    const strict = liveError(1, { minSamples: 1, ratio: 1.5, margin: 0 });
    scoreErrors(strict, [1.6], 4);
    expect(strict.verdict().drifting).toBe(true);

    const lenient = liveError(1, { minSamples: 1, ratio: 1.5, margin: 1 });
    scoreErrors(lenient, [1.6], 4);
    expect(lenient.verdict().drifting).toBe(false);
  });

  it('needs minSamples scored forecasts (by default half a window, the window being one horizon)', () => {
    const live = liveError(0.5); // horizon 4: window 4, minSamples 2
    scoreErrors(live, [50], 4);
    expect(live.verdict()).toMatchObject({ drifting: false, samples: 1, liveMase: 50 });

    live.record(flat(4, 0, 4));
    live.observe(series([...new Array<number>(4).fill(50), ...new Array<number>(4).fill(50)]));
    expect(live.verdict()).toMatchObject({ drifting: true, samples: 2 });
  });

  it('gives no verdict without a validation MASE, but still reports the live error', () => {
    const live = liveError(undefined, { minSamples: 1 });
    scoreErrors(live, [1000, 1000], 4);
    expect(live.verdict()).toEqual({ drifting: false, samples: 2, liveMase: 1000 });
  });
});
