// The Ensemble with the real LSTM member (small settings, to stay quick).
import { beforeAll, describe, expect, it } from 'vitest';
import { EnsembleForecaster, type EnsembleOptions } from '../../../src/forecast/ensemble.js';
import { LstmForecaster } from '../../../src/forecast/lstm.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { selectBackend } from '../../../src/forecast/tf/backend.js';
import type { ForecasterState, Series } from '../../../src/forecast/types.js';
import { dailySine } from './fixtures.js';

/** Counts its fits, to show that validation does not refit per fold. */
class CountedLstm extends LstmForecaster {
  fits = 0;
  override fit(series: Series): void {
    this.fits++;
    super.fit(series);
  }
}

beforeAll(async () => {
  await selectBackend();
});

describe('EnsembleForecaster with the LSTM', () => {
  const series = dailySine(3, 30, 2);
  const earlier = { ...series, values: series.values.slice(0, series.values.length - 36) };

  function ensemble(lstms: CountedLstm[] = [], refitEveryMs?: number): EnsembleForecaster {
    const options: EnsembleOptions = {
      horizonSteps: 12,
      members: [
        {
          name: 'LSTM',
          ...(refitEveryMs === undefined ? {} : { refitEveryMs }),
          make: () => {
            const lstm = new CountedLstm({ horizonSteps: 12, maxEpochs: 5, maxTrainingWindows: 192, maxValidationWindows: 96 });
            lstms.push(lstm);
            return lstm;
          },
        },
        { name: 'SeasonalNaive', make: () => new SeasonalNaiveForecaster() },
      ],
      dropRatio: 100,
    };
    return new EnsembleForecaster(options);
  }

  it('scores the LSTM out of sample, round-trips its state, and warm-starts it at the next fit', () => {
    const lstms: CountedLstm[] = [];
    const fits = () => lstms.reduce((sum, l) => sum + l.fits, 0);
    const original = ensemble(lstms);
    original.fit(earlier);
    expect(fits()).toBe(1);
    const scores = original.describe().members as { name: string; weight: number; mase?: number }[];
    const lstm = scores.find((s) => s.name === 'LSTM')!;
    expect(lstm.mase).toBeGreaterThan(0);
    expect(lstm.weight).toBeGreaterThan(0);
    expect(original.describe().mase).toBeGreaterThan(0);

    const restored = ensemble();
    restored.importState(JSON.parse(JSON.stringify(original.exportState())) as ForecasterState);
    original.update(series);
    restored.update(series);
    expect(restored.predict(24, [0.1, 0.5, 0.9])).toEqual(original.predict(24, [0.1, 0.5, 0.9]));

    original.fit(series);
    expect(fits()).toBe(2);
    const serving = lstms.filter((l) => l.fits > 0).at(-1)!;
    expect(serving.describe()).toMatchObject({ warmStart: true });
  });

  it('walks a recent LSTM fit to the next folds instead of fitting it again, and keeps forecasting as it would', () => {
    const lstms: CountedLstm[] = [];
    const fits = () => lstms.reduce((sum, l) => sum + l.fits, 0);
    const e = ensemble(lstms, 86_400_000);
    e.fit(earlier);
    const held = JSON.parse(JSON.stringify(e.exportState())) as ForecasterState;
    e.fit(series);
    expect(fits()).toBe(1);
    expect((e.describe().fits as Record<string, string>).LSTM).toMatch(/^walked from its fit through /);
    // The walked network is the earlier fit's: restored from that state and updated, it forecasts the same.
    const restored = new LstmForecaster({ horizonSteps: 12 });
    restored.importState((held.held as { state: ForecasterState }[])[0]!.state);
    restored.update(series);
    const lstmAlone = restored.predict(12, [0.5]).mean;
    const served = e.exportState().members as { name: string; state: ForecasterState }[];
    const inEnsemble = new LstmForecaster({ horizonSteps: 12 });
    inEnsemble.importState(served.find((m) => m.name === 'LSTM')!.state);
    inEnsemble.update(series);
    expect(inEnsemble.predict(12, [0.5]).mean).toEqual(lstmAlone);
  });
});
