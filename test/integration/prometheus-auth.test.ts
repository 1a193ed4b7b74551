// Credentials for Prometheus come from a Secret in the scaler's namespace that opts in by label, read
// with the operator's own RBAC, and are sent to a real Prometheus that requires basic auth, and only
// to URLs the operator allows.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toScalerConfig } from '../../src/api/config.js';
import type { PredictiveScalerSpec } from '../../src/api/types.js';
import { kubeSecretReader, PROMETHEUS_AUTH_LABEL, PrometheusConfigError, PrometheusProvider } from '../../src/controller/prometheus-provider.js';
import { PrometheusAuthError } from '../../src/prometheus/errors.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { renderKustomization } from '../helpers/kustomize.js';
import { applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

// bcrypt of "prescale-test"; Prometheus' web config stores only the hash.
const BCRYPT_HASH = '$2b$12$ruFnBuw6mJU5Q5QbAa7C/.LkMoqtqFaTzSEFb7DjN7Ws4mEdjXjxi';
const NS = 'auth';
const MIN = 60_000;

let cp: ControlPlane;
let prom: PrometheusHandle;
let provider: PrometheusProvider;
let readSecret: ReturnType<typeof kubeSecretReader>;
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
  // The base grants no right on Secrets; the component that turns the feature on does.
  await applyManifests(cp.kubeConfig, await renderKustomization('deploy', ['deploy/components/prometheus-auth-secrets']));
  await applyManifests(cp.kubeConfig, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  const optedIn = { [PROMETHEUS_AUTH_LABEL]: 'true' };
  const secret = (name: string, data: Record<string, string>, labels: Record<string, string> = optedIn) =>
    core.createNamespacedSecret({ namespace: NS, body: { metadata: { name, labels }, data } });
  await secret('prom-auth', { username: b64('scaler'), password: b64('prescale-test') });
  await secret('wrong-auth', { username: b64('scaler'), password: b64('nope') });
  await secret('no-keys', { 'db-password': b64('bar') });
  // A real, working credential that its owner never offered to prescale.
  await secret('not-opted-in', { username: b64('scaler'), password: b64('prescale-test') }, { app: 'db' });
  const token = await mintServiceAccountToken(cp.kubeConfig, 'prescale-system', 'prescale');
  readSecret = kubeSecretReader(cp.tokenKubeConfig(token));
  provider = new PrometheusProvider({ allowlist: [prom.url], authSecrets: true, readSecret, clientOptions: { retries: 0 } });
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

  const refusal = (secretName: string, p: PrometheusProvider = provider) =>
    p.clientFor(NS, toScalerConfig(spec(secretName))).then(
      () => {
        throw new Error('expected a refusal');
      },
      (err: unknown) => err as Error,
    );

  it('says the same of a missing Secret and of one that did not opt in, so status reveals neither', async () => {
    const absent = await refusal('absent');
    const notOptedIn = await refusal('not-opted-in');
    expect(absent).toBeInstanceOf(PrometheusConfigError);
    expect(absent.message).toBe(
      `Secret auth/absent (spec.prometheus.authSecretRef) cannot be used: it must exist in the scaler's namespace and carry the label ${PROMETHEUS_AUTH_LABEL}: "true"`,
    );
    expect(notOptedIn.message).toBe(absent.message.replace('auth/absent', 'auth/not-opted-in'));
  });

  it('names the keys it expects but not the keys a Secret has', async () => {
    const error = await refusal('no-keys');
    expect(error.message).toMatch(/expected key "token"/);
    expect(error.message).not.toContain('db-password');
  });

  it('reads no Secret at all unless the operator allows auth Secrets', async () => {
    const off = new PrometheusProvider({ allowlist: [prom.url], readSecret, clientOptions: { retries: 0 } });
    expect((await refusal('prom-auth', off)).message).toMatch(/does not read auth Secrets: .*--prometheus-auth-secrets/);
  });

  it('sends a Secret only to allowed URLs', async () => {
    const other = `http://127.0.0.1:1/`;
    const error = await provider.clientFor(NS, toScalerConfig({ ...spec('prom-auth'), prometheus: { url: other, authSecretRef: { name: 'prom-auth' } } })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PrometheusConfigError);
    expect((error as Error).message).toMatch(/is not allowed by this operator \(allowed: http:\/\/127\.0\.0\.1:\d+\)/);
  });
});
