import { describe, expect, it } from 'vitest';
import type { PredictiveScalerStatus } from '../../../src/api/types.js';
import { FORECAST_REFRESH_MS, sameStatus } from '../../../src/controller/reconciler.js';

const T0 = Date.UTC(2026, 10, 23, 12);
const at = (ms: number) => new Date(T0 + ms).toISOString();

function status(over: Partial<PredictiveScalerStatus> = {}, forecast: Partial<NonNullable<PredictiveScalerStatus['forecast']>> = {}): PredictiveScalerStatus {
  return {
    currentReplicas: 5,
    desiredReplicas: 7,
    leadTime: '2m',
    explanation: 'rps forecast p90 peak 512 at 14:05 / 40 per replica +10% => 15',
    forecast: { model: 'HoltWinters', generatedAt: at(0), peak: 512, peakAt: at(3_600_000), lower: 400, upper: 600, ...forecast },
    models: [{ name: 'HoltWinters', mase: 0.8, trainedAt: at(0) }],
    ...over,
  };
}

describe('sameStatus: what is worth a status write', () => {
  it.each<[string, PredictiveScalerStatus, boolean]>([
    ['the next reconcile, forecast nudged and re-explained', status({ explanation: 'rps forecast p90 peak 513 at 14:06 / 40 per replica +10% => 15' }, { generatedAt: at(30_000), peak: 513, peakAt: at(3_660_000) }), true],
    ['the forecast sparkline redrawn with float noise', status({}, { generatedAt: at(30_000), points: [401, 455, 512, 498] }), true],
    ['a forecast that moved materially', status({}, { generatedAt: at(30_000), peak: 640 }), false],
    ['a wider band', status({}, { generatedAt: at(30_000), upper: 900 }), false],
    ['another model serving', status({}, { generatedAt: at(30_000), model: 'SeasonalNaive' }), false],
    ['a stored forecast as old as the refresh period', status({}, { generatedAt: at(FORECAST_REFRESH_MS) }), false],
    ['another desired count', status({ desiredReplicas: 8 }, { generatedAt: at(30_000) }), false],
    ['another lead time', status({ leadTime: '1m40s' }, { generatedAt: at(30_000) }), false],
    ['the same models with their keys in another order (as the API server returns them)', status({ models: [{ trainedAt: at(0), name: 'HoltWinters', mase: 0.8 }] }), true],
    ['a model trained again', status({ models: [{ name: 'HoltWinters', mase: 0.8, trainedAt: at(60_000) }] }), false],
  ])('%s -> same: %s', (_what, next, same) => {
    expect(sameStatus(status(), next)).toBe(same);
  });
});
