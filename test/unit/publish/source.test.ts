import { describe, expect, it } from 'vitest';
import type { PredictiveScaler } from '../../../src/api/types.js';
import { cachePublishedSource, publishedFrom } from '../../../src/publish/source.js';

function scaler(spec: Partial<PredictiveScaler['spec']>, status: PredictiveScaler['status'] = {}, annotations?: Record<string, string>): PredictiveScaler {
  return {
    apiVersion: 'autoscaling.prescale.dev/v1alpha1',
    kind: 'PredictiveScaler',
    metadata: { name: 'checkout', namespace: 'shop', ...(annotations ? { annotations } : {}) },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' }, mode: 'Publish', ...spec } as PredictiveScaler['spec'],
    status,
  };
}
const ready = (status: 'True' | 'False', reason = 'Reconciled') => ({ type: 'Ready' as const, status, reason, message: 'm', lastTransitionTime: '2026-12-02T10:00:00Z' });

describe('publishedFrom', () => {
  it('serves status.desiredReplicas of a scaler in mode Publish', () => {
    expect(publishedFrom(scaler({}, { desiredReplicas: 7, conditions: [ready('True')] }), 'shop', 'checkout')).toEqual({
      ok: true,
      value: { namespace: 'shop', name: 'checkout', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' }, desiredReplicas: 7 },
    });
  });
  it('keeps serving while degraded (the decision then holds the count)', () => {
    expect(publishedFrom(scaler({}, { desiredReplicas: 3, conditions: [ready('False', 'PrometheusUnavailable')] }), 'shop', 'checkout').ok).toBe(true);
  });
  it.each<[string, PredictiveScaler | undefined, string, RegExp]>([
    ['a missing scaler', undefined, 'NotFound', /no PredictiveScaler shop\/checkout/],
    ['mode Auto', scaler({ mode: 'Auto' }, { desiredReplicas: 3 }), 'NotPublished', /not in mode Publish \(mode Auto\)/],
    ['no mode (Auto by default)', scaler({ mode: undefined as never }, { desiredReplicas: 3 }), 'NotPublished', /mode Auto/],
    ['no decision yet', scaler({}), 'NotReady', /has not been reconciled yet/],
    ['an invalid spec', scaler({}, { desiredReplicas: 2, conditions: [ready('False', 'InvalidSpec')] }), 'NotReady', /invalid spec/],
    ['a status someone wrote by hand', scaler({}, { desiredReplicas: -1 as never }), 'NotReady', /no recommendation/],
    ['a non-integer count', scaler({}, { desiredReplicas: 2.5 }), 'NotReady', /no recommendation/],
    ['a paused scaler', scaler({}, { desiredReplicas: 2 }, { 'autoscaling.prescale.dev/paused': 'true' }), 'NotReady', /paused/],
  ])('refuses %s', (_what, s, code, message) => {
    const r = publishedFrom(s, 'shop', 'checkout');
    expect(r).toMatchObject({ ok: false, code });
    expect(!r.ok && r.message).toMatch(message);
  });
});

describe('cachePublishedSource', () => {
  it('looks scalers up in the cache and tells listeners about every change until they unsubscribe', () => {
    const handlers: Record<string, (o: PredictiveScaler) => void> = {};
    const objects = new Map<string, PredictiveScaler>();
    const source = cachePublishedSource({ get: (name, ns) => objects.get(`${ns}/${name}`), on: (verb, cb) => (handlers[verb] = cb) });
    const seen: string[] = [];
    const off = source.onChange((ns, name) => seen.push(`${ns}/${name}`));
    const s = scaler({}, { desiredReplicas: 4 });
    objects.set('shop/checkout', s);
    handlers.add!(s);
    handlers.update!(s);
    expect(source.lookup('shop', 'checkout')).toMatchObject({ ok: true, value: { desiredReplicas: 4 } });
    expect(source.lookup('other', 'checkout')).toMatchObject({ ok: false, code: 'NotFound' });
    off();
    handlers.delete!(s);
    expect(seen).toEqual(['shop/checkout', 'shop/checkout']);
  });
});
