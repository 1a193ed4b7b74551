import { describe, expect, it } from 'vitest';
import type { ModelName } from '../../../src/api/types.js';
import { EnsembleForecaster } from '../../../src/forecast/ensemble.js';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { LstmForecaster } from '../../../src/forecast/lstm.js';
import { ENSEMBLE_MEMBERS, STATISTICAL_FALLBACK, createForecaster, isStatisticalModel, resolveModel, restoreForecaster } from '../../../src/forecast/registry.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { DAY_MS } from '../../../src/forecast/season.js';
import { IncompatibleStateError, type ForecasterState } from '../../../src/forecast/types.js';
import { FIVE_MINUTES, dailySine } from './fixtures.js';

describe('registry', () => {
  it('creates each model', () => {
    expect(createForecaster('HoltWinters', {})).toBeInstanceOf(HoltWintersForecaster);
    expect(createForecaster('SeasonalNaive', {})).toBeInstanceOf(SeasonalNaiveForecaster);
    expect(createForecaster('Linear', {})).toBeInstanceOf(LinearForecaster);
    expect(createForecaster('LSTM', {})).toBeInstanceOf(LstmForecaster);
    expect(createForecaster('Ensemble', {})).toBeInstanceOf(EnsembleForecaster);
  });

  it('passes the seasonality through', () => {
    expect(createForecaster('HoltWinters', { seasonality: [DAY_MS] }).minHistoryPoints(300_000)).toBe(576);
  });

  it('builds the LSTM for the requested horizon', () => {
    // One window (24 five-minute steps), two horizons and 39 more example origins.
    expect(createForecaster('LSTM', { horizonSteps: 12 }).minHistoryPoints(FIVE_MINUTES)).toBe(24 + 2 * 12 + 39);
    expect(createForecaster('LSTM', {}).minHistoryPoints(FIVE_MINUTES)).toBe(24 + 2 * 30 + 39);
  });

  it('puts the LSTM and every statistical model in the Ensemble', () => {
    expect(ENSEMBLE_MEMBERS).toEqual(['LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear']);
    expect(ENSEMBLE_MEMBERS.filter((m) => m !== 'LSTM').every((m) => isStatisticalModel(m))).toBe(true);
    expect(isStatisticalModel('LSTM')).toBe(false);
  });

  it('runs every model as itself and falls back only for a name this version does not know', () => {
    for (const model of ['Ensemble', 'LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear'] as const) expect(resolveModel(model)).toEqual({ model });
    expect(STATISTICAL_FALLBACK).toBe('HoltWinters');
    expect(resolveModel('Prophet' as ModelName)).toEqual({
      model: 'HoltWinters',
      fallbackReason: 'Prophet models are not available in this version; using HoltWinters',
    });
    expect(() => createForecaster('Prophet' as ModelName, {})).toThrow(/resolveModel/);
  });
});

describe('restoreForecaster', () => {
  const series = dailySine(3, 30, 3);
  const earlier = { ...series, values: series.values.slice(0, 800) };

  it('rebuilds a model from its state: the same forecast after update()', () => {
    const original = createForecaster('HoltWinters', { seasonality: 'Auto' });
    original.fit(earlier);
    const restored = restoreForecaster(JSON.parse(JSON.stringify(original.exportState())) as ForecasterState, { seasonality: 'Auto' });
    expect(restored).toBeInstanceOf(HoltWintersForecaster);
    original.update(series);
    restored.update(series);
    expect(restored.predict(24, [0.1, 0.9])).toEqual(original.predict(24, [0.1, 0.9]));
  });

  it('restores an Ensemble whose state holds only the members it kept', () => {
    const options = { seasonality: 'Auto' as const, horizonSteps: 12 };
    const member = createForecaster('SeasonalNaive', options);
    member.fit(earlier);
    const state: ForecasterState = {
      model: 'Ensemble',
      format: 1,
      horizonSteps: 12,
      members: [{ name: 'SeasonalNaive', weight: 1, state: member.exportState() }],
      scores: [
        { name: 'SeasonalNaive', weight: 1, mase: 0.8 },
        { name: 'LSTM', weight: 0, dropped: 'validation MASE 2.000 is over 1.5x the best member\'s 0.800' },
      ],
      mase: 0.8,
    };
    const restored = restoreForecaster(state, options);
    expect(restored).toBeInstanceOf(EnsembleForecaster);
    expect(restored.describe()).toMatchObject({ mase: 0.8, members: state.scores });
    restored.update(series);
    member.update(series);
    expect(restored.predict(12, [0.5]).mean).toEqual(member.predict(12, [0.5]).mean);
  });

  it('rejects a state of no known model, and passes on the model\'s own rejection', () => {
    expect(() => restoreForecaster({ model: 'Prophet', format: 1 }, {})).toThrow(IncompatibleStateError);
    expect(() => restoreForecaster(null as unknown as ForecasterState, {})).toThrow(IncompatibleStateError);
    expect(() => restoreForecaster({ model: 'Linear', format: 999 }, {})).toThrow(IncompatibleStateError);
  });
});
