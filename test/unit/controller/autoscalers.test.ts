import { describe, expect, it } from 'vitest';
import { checkAutoscalers } from '../../../src/controller/autoscalers.js';
import type { TargetAutoscaler } from '../../../src/kube/hpa-index.js';

const WEB = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const plain: TargetAutoscaler = { name: 'web-cpu', consumes: [] };
const consumer: TargetAutoscaler = { name: 'keda-hpa-web', scaledObject: 'web', consumes: ['checkout'] };
const otherScaler: TargetAutoscaler = { name: 'web-other', consumes: ['another'] };

describe('checkAutoscalers', () => {
  it('is clear without HPAs in Auto', () => {
    expect(checkAutoscalers('Auto', 'checkout', WEB, [])).toEqual({ kind: 'clear' });
  });

  it('calls any HPA a conflict in Auto and ForecastOnly, and says how to fix it', () => {
    const plainVerdict = checkAutoscalers('Auto', 'checkout', WEB, [plain]);
    expect(plainVerdict).toMatchObject({ kind: 'conflict' });
    expect(plainVerdict.kind === 'conflict' && plainVerdict.message).toMatch(/HorizontalPodAutoscaler web-cpu already scales Deployment web.*mode: Publish/);
    const consumerVerdict = checkAutoscalers('ForecastOnly', 'checkout', WEB, [consumer]);
    expect(consumerVerdict.kind === 'conflict' && consumerVerdict.message).toMatch(/\(ScaledObject web\).*reads this scaler's published recommendation: set mode: Publish/);
  });

  it('in Publish, an HPA or ScaledObject reading this scaler is its consumer, not a conflict', () => {
    expect(checkAutoscalers('Publish', 'checkout', WEB, [consumer, plain])).toEqual({
      kind: 'published',
      consumed: true,
      message: 'published to HorizontalPodAutoscaler keda-hpa-web (ScaledObject web), which scales Deployment web on this recommendation',
    });
  });

  it('in Publish without a consumer, says what to add, and names HPAs that read something else', () => {
    const v = checkAutoscalers('Publish', 'checkout', WEB, [otherScaler]);
    expect(v).toMatchObject({ kind: 'published', consumed: false });
    expect(v.kind === 'published' && v.message).toMatch(/metadata scaler: checkout.*prescale_desired_replicas with selector scaler=checkout; HorizontalPodAutoscaler web-other scales Deployment web without it/);
  });
});
