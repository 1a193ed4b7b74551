import { describe, expect, it } from 'vitest';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { STATISTICAL_FALLBACK, createForecaster, resolveModel } from '../../../src/forecast/registry.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { DAY_MS } from '../../../src/forecast/season.js';

describe('registry', () => {
  it('creates each statistical model', () => {
    expect(createForecaster('HoltWinters', {})).toBeInstanceOf(HoltWintersForecaster);
    expect(createForecaster('SeasonalNaive', {})).toBeInstanceOf(SeasonalNaiveForecaster);
    expect(createForecaster('Linear', {})).toBeInstanceOf(LinearForecaster);
  });

  it('passes the seasonality through', () => {
    expect(createForecaster('HoltWinters', { seasonality: [DAY_MS] }).minHistoryPoints(300_000)).toBe(576);
  });

  it('maps LSTM to the statistical fallback with a reason; the Ensemble runs as itself', () => {
    expect(STATISTICAL_FALLBACK).toBe('HoltWinters');
    expect(resolveModel('LSTM')).toEqual({
      model: 'HoltWinters',
      fallbackReason: 'LSTM models are not available in this version; using HoltWinters',
    });
    expect(resolveModel('Ensemble')).toEqual({ model: 'Ensemble' });
    expect(resolveModel('Linear')).toEqual({ model: 'Linear' });
  });

  it('refuses to create a model that must be resolved first', () => {
    expect(() => createForecaster('LSTM', {})).toThrow(/resolveModel/);
  });
});
