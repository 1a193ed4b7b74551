import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ScaleTargetRef } from '../../../src/api/types.js';
import { consumedScalers, describeAutoscaler, groupOf, hpaTargets } from '../../../src/kube/hpa-index.js';

function hpa(ref: Partial<ScaleTargetRef> | undefined): V2HorizontalPodAutoscaler {
  return {
    metadata: { name: 'web-hpa', namespace: 'shop' },
    ...(ref ? { spec: { maxReplicas: 10, scaleTargetRef: ref as ScaleTargetRef } } : {}),
  };
}

const WEB: ScaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

describe('groupOf', () => {
  it.each([
    ['apps/v1', 'apps'],
    ['argoproj.io/v1alpha1', 'argoproj.io'],
    ['v1', ''],
    ['', ''],
  ])('%j -> %j', (apiVersion, group) => {
    expect(groupOf(apiVersion)).toBe(group);
  });
});

describe('hpaTargets', () => {
  it.each<[string, Partial<ScaleTargetRef> | undefined, ScaleTargetRef, boolean]>([
    ['the same group, kind and name', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, WEB, true],
    ['another version of the same group', { apiVersion: 'apps/v1beta2', kind: 'Deployment', name: 'web' }, WEB, true],
    ['another name', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, WEB, false],
    ['another kind', { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web' }, WEB, false],
    ['a kind spelled in another case', { apiVersion: 'apps/v1', kind: 'deployment', name: 'web' }, WEB, false],
    ['another group with the same kind and name', { apiVersion: 'example.com/v1', kind: 'Deployment', name: 'web' }, WEB, false],
    ['a custom resource with a scale subresource', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web' }, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web' }, true],
    ['the core group', { apiVersion: 'v1', kind: 'ReplicationController', name: 'web' }, { apiVersion: 'v1', kind: 'ReplicationController', name: 'web' }, true],
    ['an HPA without apiVersion, against the core group', { kind: 'ReplicationController', name: 'web' }, { apiVersion: 'v1', kind: 'ReplicationController', name: 'web' }, true],
    ['an HPA without apiVersion, against apps', { kind: 'Deployment', name: 'web' }, WEB, false],
    ['an HPA without a spec', undefined, WEB, false],
  ])('%s: %j vs %j -> %s', (_what, ref, target, expected) => {
    expect(hpaTargets(hpa(ref), target)).toBe(expected);
  });
});

describe('consumedScalers and describeAutoscaler', () => {
  const external = (name: string, matchLabels?: Record<string, string>) => ({
    type: 'External',
    external: { metric: { name, ...(matchLabels ? { selector: { matchLabels } } : {}) }, target: { type: 'AverageValue', averageValue: '1' } },
  });
  const withMetrics = (metrics: unknown[], owner?: { apiVersion: string; kind: string; name: string }): V2HorizontalPodAutoscaler => ({
    metadata: { name: 'keda-hpa-web', namespace: 'shop', ...(owner ? { ownerReferences: [{ ...owner, uid: 'u' }] } : {}) },
    spec: { maxReplicas: 10, scaleTargetRef: WEB, metrics: metrics as never },
  });

  it('reads prescale_desired_replicas with a scaler selector, and KEDA metric names of every trigger index', () => {
    const h = withMetrics([external('prescale_desired_replicas', { scaler: 'web' }), external('s2-prescale-api.v2'), external('s0-prometheus')]);
    expect(consumedScalers(h).sort()).toEqual(['api.v2', 'web']);
  });

  it.each<[string, unknown[]]>([
    ['prescale_desired_replicas without a selector', [external('prescale_desired_replicas')]],
    ['another label', [external('prescale_desired_replicas', { app: 'web' })]],
    ['a KEDA name without the index prefix', [external('prescale-web')]],
    ['a Resource metric', [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]],
    ['an External metric without a metric', [{ type: 'External', external: {} }]],
  ])('consumes nothing: %s', (_what, metrics) => {
    expect(consumedScalers(withMetrics(metrics))).toEqual([]);
  });

  it('names the ScaledObject that owns a KEDA HPA, not other owners', () => {
    expect(describeAutoscaler(withMetrics([external('s0-prescale-web')], { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'web' }))).toEqual({
      name: 'keda-hpa-web',
      scaledObject: 'web',
      consumes: ['web'],
    });
    expect(describeAutoscaler(withMetrics([], { apiVersion: 'example.com/v1', kind: 'ScaledObject', name: 'x' }))).toEqual({ name: 'keda-hpa-web', consumes: [] });
  });
});
