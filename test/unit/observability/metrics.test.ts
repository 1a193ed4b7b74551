import { describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { createOperatorMetrics } from '../../../src/observability/metrics.js';

const METRIC_NAMES = [
  'prescale_forecast_value',
  'prescale_observed_value',
  'prescale_forecast_abs_pct_error',
  'prescale_desired_replicas',
  'prescale_current_replicas',
  'prescale_scale_actions_total',
  'prescale_reconcile_duration_seconds',
  'prescale_reconcile_errors_total',
  'prescale_model_training_duration_seconds',
  'prescale_model_mase',
  'prescale_prometheus_query_duration_seconds',
  'prescale_forecast_fallback',
  'prescale_leader',
];

function observeEverything(metrics: ReturnType<typeof createOperatorMetrics>, namespace: string, scaler: string) {
  const metric = 'rps';
  metrics.forecastValue.set({ namespace, scaler, metric, quantile: '0.9' }, 120);
  metrics.observedValue.set({ namespace, scaler, metric }, 100);
  metrics.forecastAbsPctError.set({ namespace, scaler, metric }, 12.5);
  metrics.desiredReplicas.set({ namespace, scaler }, 6);
  metrics.currentReplicas.set({ namespace, scaler }, 4);
  metrics.scaleActions.inc({ namespace, scaler, direction: 'up' });
  metrics.reconcileDuration.observe(0.012);
  metrics.reconcileErrors.inc({ reason: 'PrometheusUnavailable' });
  metrics.modelTrainingDuration.observe({ model: 'holt-winters' }, 0.8);
  metrics.modelMase.set({ namespace, scaler, metric, model: 'holt-winters' }, 0.7);
  metrics.prometheusQueryDuration.observe({ outcome: 'success' }, 0.03);
  metrics.forecastFallback.set({ namespace, scaler, metric, reason: 'InsufficientHistory' }, 1);
  metrics.leader.set(1);
}

describe('createOperatorMetrics', () => {
  it('exposes every operator metric and the default process metrics on the given registry only', async () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    observeEverything(metrics, 'shop', 'web');
    const text = await registry.metrics();
    for (const name of METRIC_NAMES) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes /m);
    expect(text).toContain('prescale_forecast_value{namespace="shop",scaler="web",metric="rps",quantile="0.9"} 120');
    expect(text).toContain('prescale_scale_actions_total{namespace="shop",scaler="web",direction="up"} 1');
    expect(text).toContain('prescale_reconcile_duration_seconds_bucket{le="0.001"} 0');
    expect(text).toContain('prescale_reconcile_duration_seconds_bucket{le="0.016"} 1');
    expect(text).toMatch(/prescale_reconcile_duration_seconds_bucket\{le="(8\.192|10|16\.384)"\}/);
    expect((await globalRegistry.metrics())).not.toContain('prescale_');
  });

  it('can be created on two registries side by side', async () => {
    const a = new Registry();
    const b = new Registry();
    createOperatorMetrics(a).leader.set(1);
    createOperatorMetrics(b).leader.set(0);
    expect(await a.getSingleMetricAsString('prescale_leader')).toContain('prescale_leader 1');
    expect(await b.getSingleMetricAsString('prescale_leader')).toContain('prescale_leader 0');
  });

  it('forgetScaler removes every series of that scaler and keeps the others', async () => {
    const registry = new Registry();
    const metrics = createOperatorMetrics(registry);
    observeEverything(metrics, 'shop', 'web');
    observeEverything(metrics, 'shop', 'api');
    observeEverything(metrics, 'other', 'web');

    await metrics.forgetScaler('shop', 'web');
    const text = await registry.metrics();
    const seriesOf = (namespace: string, scaler: string) =>
      text.split('\n').filter((line) => line.includes(`namespace="${namespace}",scaler="${scaler}"`));
    expect(seriesOf('shop', 'web')).toEqual([]);
    // Eight per-scaler metrics each keep one series for the remaining scalers.
    expect(seriesOf('shop', 'api')).toHaveLength(8);
    expect(seriesOf('other', 'web')).toHaveLength(8);
    expect(text).toContain('prescale_reconcile_errors_total{reason="PrometheusUnavailable"} 3');
  });
});
