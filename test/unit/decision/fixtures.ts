// Builders that let decision tests read like user input: a minimal PredictiveScaler spec, a forecast
// given per minute ahead, and a DecisionInput with sensible defaults.
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import type { PredictiveScalerSpec, ScalingSpec } from '../../../src/api/types.js';
import type { DecisionInput, MetricInput } from '../../../src/decision/types.js';
import type { Forecast } from '../../../src/forecast/types.js';

export const NOW = Date.parse('2026-03-02T14:00:00Z');
export const SEC = 1000;
export const MIN = 60 * SEC;

export type SpecOverrides = Partial<Omit<PredictiveScalerSpec, 'scaling'>> & { scaling?: ScalingSpec };

/** A scaler for a web service "web" with one metric, rps, at 40 per replica, plus overrides. */
export function scalerConfig(overrides: SpecOverrides = {}): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 100,
    metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total{service="web"}[1m]))', targetPerReplica: '40' }],
    ...overrides,
  });
}

/** Scaling behaviour that never interferes, for tests about the metric rules themselves. */
export const NO_LIMITS: ScalingSpec = {
  scaleUp: { maxReplicasPerMinute: 1000 },
  scaleDown: { stabilizationWindow: '0s', maxPercentPerMinute: 100 },
};

export function unlimited(overrides: SpecOverrides = {}): ScalerConfig {
  return scalerConfig({ ...overrides, scaling: { ...NO_LIMITS, ...overrides.scaling } });
}

export interface ForecastShape {
  /** Value at the point `minute` minutes after now (the first point is at now + 1m). */
  mean: (minute: number) => number;
  /** Extra quantile series, keyed by level. */
  quantiles?: Record<number, (minute: number) => number>;
  points?: number;
  firstMinute?: number;
}

export function forecast(shape: ForecastShape): Forecast {
  const points = shape.points ?? 30;
  const first = shape.firstMinute ?? 1;
  const minutes = Array.from({ length: points }, (_, i) => first + i);
  return {
    model: 'Test',
    start: NOW + first * MIN,
    stepMs: MIN,
    mean: minutes.map(shape.mean),
    quantiles: Object.entries(shape.quantiles ?? {}).map(([q, f]) => ({ q: Number(q), values: minutes.map(f) })),
  };
}

/** A forecast whose p90 is `p90` everywhere (mean and p50 a bit lower). */
export function flatForecast(p90: number): Forecast {
  return forecast({ mean: () => p90 * 0.8, quantiles: { 0.5: () => p90 * 0.8, 0.9: () => p90 } });
}

export function input(config: ScalerConfig, currentReplicas: number, metrics: MetricInput[], extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    now: NOW,
    config,
    currentReplicas,
    leadTimeMs: 2 * MIN,
    metrics,
    recommendations: [],
    scaleEvents: [],
    ...extra,
  };
}
