import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ScaleTargetRef } from '../../../src/api/types.js';
import { groupOf, hpaTargets } from '../../../src/kube/hpa-index.js';

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
