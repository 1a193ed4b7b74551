// Credentials for Prometheus come from a Secret in the scaler's namespace, read with the operator's
// own RBAC, and are sent to a real Prometheus that requires basic auth.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toScalerConfig } from '../../src/api/config.js';
import type { PredictiveScalerSpec } from '../../src/api/types.js';
import { kubeSecretReader, PrometheusConfigError, PrometheusProvider } from '../../src/controller/prometheus-provider.js';
import { PrometheusAuthError } from '../../src/prometheus/errors.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

// bcrypt of "prescale-test"; Prometheus' web config stores only the hash.
const BCRYPT_HASH = '$2b$12$ruFnBuw6mJU5Q5QbAa7C/.LkMoqtqFaTzSEFb7DjN7Ws4mEdjXjxi';
const NS = 'auth';
const MIN = 60_000;

let cp: ControlPlane;
let prom: PrometheusHandle;
let provider: PrometheusProvider;
const end = Math.floor(Date.now() / MIN) * MIN - MIN;

function spec(secret?: string): PredictiveScalerSpec {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' },
    maxReplicas: 5,
    metrics: [{ name: 'm', query: 'up', targetPerReplica: '1' }],
    prometheus: { url: prom.url, ...(secret ? { authSecretRef: { name: secret } } : {}) },
  };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  [cp, prom] = await Promise.all([
    startControlPlane(),
    startPrometheus({
      basicAuth: { username: 'scaler', password: 'prescale-test', bcryptHash: BCRYPT_HASH },
      series: [{ name: 'demand', labels: { app: 'web' }, points: Array.from({ length: 60 }, (_, i) => [end - (59 - i) * MIN, i] as [number, number]) }],
    }),
  ]);
  await applyManifests(cp.kubeConfig, 'crds');
  await applyKustomization(cp.kubeConfig, 'deploy');
  await applyManifests(cp.kubeConfig, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'prom-auth' }, data: { username: b64('scaler'), password: b64('prescale-test') } } });
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'wrong-auth' }, data: { username: b64('scaler'), password: b64('nope') } } });
  await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'no-keys' }, data: { foo: b64('bar') } } });
  const token = await mintServiceAccountToken(cp.kubeConfig, 'prescale-system', 'prescale');
  provider = new PrometheusProvider({ readSecret: kubeSecretReader(cp.tokenKubeConfig(token)), clientOptions: { retries: 0 } });
}, 180_000);

afterAll(async () => {
  await Promise.all([cp?.close(), prom?.close()]);
});

describe('Prometheus credentials from a Secret', () => {
  it('queries with basic auth read from the Secret through the operator RBAC', async () => {
    const client = await provider.clientFor(NS, toScalerConfig(spec('prom-auth')));
    const series = await client.queryRangeSeries('demand{app="web"}', end - 9 * MIN, end, MIN);
    expect(series.values).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
  });

  it('reports refused credentials as an auth error naming the Secret setting', async () => {
    const client = await provider.clientFor(NS, toScalerConfig(spec('wrong-auth')));
    await expect(client.queryRangeSeries('demand', end - MIN, end, MIN)).rejects.toThrow(PrometheusAuthError);
    const anonymous = await provider.clientFor(NS, toScalerConfig(spec()));
    await expect(anonymous.queryRangeSeries('demand', end - MIN, end, MIN)).rejects.toThrow(/spec\.prometheus\.authSecretRef/);
  });

  it('explains a missing Secret and one without usable keys', async () => {
    await expect(provider.clientFor(NS, toScalerConfig(spec('absent')))).rejects.toThrow(PrometheusConfigError);
    await expect(provider.clientFor(NS, toScalerConfig(spec('absent')))).rejects.toThrow(/Secret auth\/absent .* does not exist/);
    await expect(provider.clientFor(NS, toScalerConfig(spec('no-keys')))).rejects.toThrow(/expected key "token".*found keys "foo"/);
  });
});
