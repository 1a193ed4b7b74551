// Which Prometheus a scaler may reach, with which credentials, and what its queries may read.
import { describe, expect, it } from 'vitest';
import { PROMETHEUS_AUTH_LABEL, PrometheusConfigError, PrometheusProvider, type SecretData } from '../../../src/controller/prometheus-provider.js';
import { PrometheusClient } from '../../../src/prometheus/client.js';
import { PromQLEnforceError } from '../../../src/prometheus/enforce-label.js';
import { scalerConfig } from '../decision/fixtures.js';
import { startFakePrometheus, matrix, sendJson } from '../prometheus/fake-prometheus.js';

const DEFAULT = 'http://prometheus.monitoring:9090';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function secrets(entries: Record<string, SecretData>) {
  const reads: string[] = [];
  return {
    reads,
    readSecret: async (namespace: string, name: string) => {
      reads.push(`${namespace}/${name}`);
      return entries[`${namespace}/${name}`];
    },
  };
}

const withPrometheus = (prometheus: { url?: string; authSecretRef?: { name: string } }) => scalerConfig({ prometheus });

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err as Error,
  );

describe('PrometheusProvider', () => {
  it('uses the operator\'s URL by default and refuses to run without any', async () => {
    const provider = new PrometheusProvider({ defaultUrl: DEFAULT });
    expect(await provider.clientFor('shop', withPrometheus({}))).toBeInstanceOf(PrometheusClient);
    const none = await refusal(new PrometheusProvider({}).clientFor('shop', withPrometheus({})));
    expect(none).toBeInstanceOf(PrometheusConfigError);
    expect(none.message).toMatch(/no Prometheus URL/);
  });

  it('allows a scaler\'s own URL only under the allowlist, which defaults to the operator\'s URL', async () => {
    const provider = new PrometheusProvider({ defaultUrl: DEFAULT });
    await expect(provider.clientFor('shop', withPrometheus({ url: `${DEFAULT}/` }))).resolves.toBeInstanceOf(PrometheusClient);
    const error = await refusal(provider.clientFor('shop', withPrometheus({ url: 'http://10.0.0.1:6443' })));
    expect(error).toBeInstanceOf(PrometheusConfigError);
    expect(error.message).toBe(
      `spec.prometheus.url http://10.0.0.1:6443/ is not allowed by this operator (allowed: ${DEFAULT}); remove the field to use the operator's Prometheus, or ask the cluster admin to add it to --prometheus-url-allowlist`,
    );
    const wider = new PrometheusProvider({ defaultUrl: DEFAULT, allowlist: [DEFAULT, 'https://thanos.monitoring/tenants/shop'] });
    await expect(wider.clientFor('shop', withPrometheus({ url: 'https://thanos.monitoring/tenants/shop' }))).resolves.toBeDefined();
    await expect(refusal(wider.clientFor('shop', withPrometheus({ url: 'https://thanos.monitoring/tenants/bank' })))).resolves.toBeInstanceOf(PrometheusConfigError);
  });

  it('turns a malformed URL that predates admission checks into a condition, not a throw', async () => {
    const provider = new PrometheusProvider({ defaultUrl: DEFAULT });
    for (const url of ['http://', 'http://user:pw@prometheus.monitoring:9090', 'gopher://x']) {
      const cfg = { ...scalerConfig({}), prometheus: { url } };
      expect(await refusal(provider.clientFor('shop', cfg))).toBeInstanceOf(PrometheusConfigError);
    }
  });

  it('reads no Secret unless auth Secrets are on, and then only labelled ones', async () => {
    const store = secrets({
      'shop/prom': { data: { token: b64('t') }, labels: { [PROMETHEUS_AUTH_LABEL]: 'true' } },
      'shop/db': { data: { password: b64('p') } },
      'shop/almost': { data: { token: b64('t') }, labels: { [PROMETHEUS_AUTH_LABEL]: 'yes' } },
    });
    const off = new PrometheusProvider({ defaultUrl: DEFAULT, readSecret: store.readSecret });
    expect((await refusal(off.clientFor('shop', withPrometheus({ authSecretRef: { name: 'prom' } })))).message).toMatch(/does not read auth Secrets/);
    expect(store.reads).toEqual([]);

    const on = new PrometheusProvider({ defaultUrl: DEFAULT, authSecrets: true, readSecret: store.readSecret });
    await expect(on.clientFor('shop', withPrometheus({ authSecretRef: { name: 'prom' } }))).resolves.toBeInstanceOf(PrometheusClient);
    const messages = await Promise.all(
      ['db', 'almost', 'absent'].map(async (name) => (await refusal(on.clientFor('shop', withPrometheus({ authSecretRef: { name } })))).message.replace(name, 'X')),
    );
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).not.toMatch(/password/);
  });

  it('checks the URL before it reads any Secret', async () => {
    const store = secrets({ 'shop/prom': { data: { token: b64('t') }, labels: { [PROMETHEUS_AUTH_LABEL]: 'true' } } });
    const provider = new PrometheusProvider({ defaultUrl: DEFAULT, authSecrets: true, readSecret: store.readSecret });
    await refusal(provider.clientFor('shop', withPrometheus({ url: 'http://attacker.example', authSecretRef: { name: 'prom' } })));
    expect(store.reads).toEqual([]);
  });

  it('rewrites every query to the scaler\'s namespace and reports a contradicting one as a query error', async () => {
    const fake = await startFakePrometheus();
    try {
      fake.handle((_req, res) => sendJson(res, 200, matrix([])));
      const provider = new PrometheusProvider({ defaultUrl: fake.url, enforceNamespaceLabel: 'namespace', clientOptions: { retries: 0 } });
      const source = await provider.clientFor('shop', withPrometheus({}));
      await source.queryRangeSeries('sum(rate(http_requests_total[1m]))', 0, 60_000, 60_000);
      expect(fake.requests[0]!.form.query).toBe('sum(rate(http_requests_total{namespace="shop"}[1m]))');
      const error = await refusal(source.queryRangeSeries('sum(up{namespace="bank"})', 0, 60_000, 60_000));
      expect(error).toBeInstanceOf(PromQLEnforceError);
      expect(error.message).toMatch(/conflicts with the enforced namespace="shop"/);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
