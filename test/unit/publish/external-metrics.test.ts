// The external metrics API against a real HTTPS client presenting (or not) a front-proxy client
// certificate, as kube-apiserver's aggregator does; the PredictiveScalers and the access reviews are fakes.
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewedUser } from '../../../src/observability/metrics-auth.js';
import { certificateAuthority, issueCertificate, type CertificateAndKey } from '../../../src/observability/self-signed-cert.js';
import { frontProxyAuthFrom, startExternalMetricsServer, type ExternalMetricsServer, type FrontProxyAuth } from '../../../src/publish/external-metrics.js';
import type { PublishedLookup, PublishedSource } from '../../../src/publish/source.js';
import { httpsGet } from '../../helpers/https-json.js';

const logger = pino({ level: 'silent' });
let proxyCa: CertificateAndKey;
let proxyClient: CertificateAndKey;
let otherClient: CertificateAndKey;
let strangerClient: CertificateAndKey;
let serving: CertificateAndKey;

beforeAll(() => {
  proxyCa = certificateAuthority({ commonName: 'front-proxy-ca' });
  const otherCa = certificateAuthority({ commonName: 'someone-else' });
  proxyClient = issueCertificate({ issuer: proxyCa, commonName: 'front-proxy-client', usages: ['clientAuth'] });
  strangerClient = issueCertificate({ issuer: proxyCa, commonName: 'not-the-proxy', usages: ['clientAuth'] });
  otherClient = issueCertificate({ issuer: otherCa, commonName: 'front-proxy-client', usages: ['clientAuth'] });
  const servingCa = certificateAuthority({ commonName: 'serving-ca' });
  serving = issueCertificate({ issuer: servingCa, commonName: 'prescale', hosts: ['127.0.0.1'], usages: ['serverAuth'] });
});

const scalers = new Map<string, PublishedLookup>([
  ['shop/checkout', { ok: true, value: { namespace: 'shop', name: 'checkout', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' }, desiredReplicas: 14 } }],
  ['shop/cold', { ok: false, code: 'NotReady', message: 'PredictiveScaler shop/cold has no recommendation: it has not been reconciled yet' }],
  ['shop/auto', { ok: false, code: 'NotPublished', message: 'PredictiveScaler shop/auto is not in mode Publish (mode Auto)' }],
]);
const source: PublishedSource = {
  lookup: (ns, name) => scalers.get(`${ns}/${name}`) ?? { ok: false, code: 'NotFound', message: `no PredictiveScaler ${ns}/${name}` },
  onChange: () => () => undefined,
};

let server: ExternalMetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Reviewed {
  user: ReviewedUser;
  attributes: { group: string; resource: string; namespace: string; verb: string };
}

async function start(options: { allow?: (user: ReviewedUser) => boolean; auth?: () => Promise<FrontProxyAuth>; maxConcurrentReviews?: number } = {}) {
  const reviewed: Reviewed[] = [];
  server = await startExternalMetricsServer({
    address: '127.0.0.1:0',
    source,
    loadAuth:
      options.auth ??
      (async () => frontProxyAuthFrom({ 'requestheader-client-ca-file': proxyCa.cert, 'requestheader-allowed-names': '["front-proxy-client"]' })),
    reviews: {
      allowed: async (user, attributes) => {
        reviewed.push({ user, attributes });
        return (options.allow ?? (() => true))(user);
      },
    },
    cert: serving.cert,
    key: serving.key,
    logger,
    now: () => Date.parse('2026-12-02T12:00:00Z'),
    ...(options.maxConcurrentReviews !== undefined ? { maxConcurrentReviews: options.maxConcurrentReviews } : {}),
  });
  return { port: server!.address.port, reviewed };
}

function get(port: number, path: string, client?: CertificateAndKey, headers: Record<string, string | string[]> = {}) {
  return httpsGet(`https://127.0.0.1:${port}${path}`, { rejectUnauthorized: false, headers, ...(client ? { cert: client.cert, key: client.key } : {}) });
}

const METRIC = '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/prescale_desired_replicas';
const AS_HPA = { 'X-Remote-User': 'system:serviceaccount:kube-system:horizontal-pod-autoscaler', 'X-Remote-Group': ['system:serviceaccounts', 'system:authenticated'] };

describe('external metrics API', () => {
  it('answers discovery as an aggregated API server does', async () => {
    const { port } = await start();
    const resources = await get(port, '/apis/external.metrics.k8s.io/v1beta1', proxyClient);
    expect(resources.status).toBe(200);
    expect(resources.body).toMatchObject({ kind: 'APIResourceList', groupVersion: 'external.metrics.k8s.io/v1beta1', resources: [{ name: 'externalmetrics', namespaced: true }] });
    expect((await get(port, '/apis')).body).toMatchObject({ kind: 'APIGroupList', groups: [{ name: 'external.metrics.k8s.io' }] });
  });

  it('serves status.desiredReplicas to the user the front proxy names, after a SubjectAccessReview for the metric', async () => {
    const { port, reviewed } = await start();
    const r = await get(port, `${METRIC}?labelSelector=${encodeURIComponent('scaler=checkout')}`, proxyClient, AS_HPA);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      kind: 'ExternalMetricValueList',
      apiVersion: 'external.metrics.k8s.io/v1beta1',
      metadata: {},
      items: [{ metricName: 'prescale_desired_replicas', metricLabels: { scaler: 'checkout' }, timestamp: '2026-12-02T12:00:00.000Z', value: '14' }],
    });
    expect(reviewed).toEqual([
      {
        user: { username: AS_HPA['X-Remote-User'], groups: AS_HPA['X-Remote-Group'] },
        attributes: { group: 'external.metrics.k8s.io', version: 'v1beta1', resource: 'prescale_desired_replicas', namespace: 'shop', verb: 'list' },
      },
    ]);
    // The allow is remembered: a second poll costs the API server nothing.
    await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, AS_HPA);
    expect(reviewed).toHaveLength(1);
  });

  it('passes X-Remote-Extra- headers on to the review', async () => {
    const { port, reviewed } = await start();
    await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, { ...AS_HPA, 'X-Remote-Extra-Scopes%2Fa': 'x' });
    expect(reviewed[0]!.user.extra).toEqual({ 'scopes/a': ['x'] });
  });

  it.each<[string, CertificateAndKey | undefined | 'stranger' | 'other']>([
    ['no client certificate', undefined],
    ['a certificate from another CA', 'other'],
    ['a front-proxy CA certificate with a name not allowed', 'stranger'],
  ])('refuses %s with 401, whatever the headers say, and reviews nothing', async (_what, which) => {
    const { port, reviewed } = await start();
    const client = which === 'other' ? otherClient : which === 'stranger' ? strangerClient : which;
    const r = await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, client, { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(reviewed).toEqual([]);
  });

  it('refuses a proxied request that names no user', async () => {
    const { port } = await start();
    expect((await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient)).status).toBe(401);
  });

  it('says 403 when the review denies, naming user, metric and namespace', async () => {
    const { port } = await start({ allow: () => false });
    const r = await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, { 'X-Remote-User': 'mallory' });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('user "mallory" cannot list resource "prescale_desired_replicas" in API group "external.metrics.k8s.io" in the namespace "shop"');
  });

  it('says 500 when the review fails, and 429 beyond the concurrent reviews', async () => {
    const failing = await start({
      allow: () => {
        throw new Error('API server down');
      },
    });
    expect((await get(failing.port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, AS_HPA)).status).toBe(500);
    await server!.close();
    server = undefined;
    const busy = await start({ maxConcurrentReviews: 0 });
    expect((await get(busy.port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, AS_HPA)).status).toBe(429);
  });

  it.each<[string, string, number, RegExp]>([
    ['no selector', METRIC, 400, /select one PredictiveScaler with the label selector scaler=<name>/],
    ['a selector for several scalers', `${METRIC}?labelSelector=${encodeURIComponent('scaler in (a,b)')}`, 400, /select one PredictiveScaler/],
    ['a selector that does not parse', `${METRIC}?labelSelector=${encodeURIComponent('scaler=a$b')}`, 400, /invalid label value/],
    ['a scaler that does not exist', `${METRIC}?labelSelector=scaler%3Dnope`, 404, /no PredictiveScaler shop\/nope/],
    ['a scaler not in mode Publish', `${METRIC}?labelSelector=scaler%3Dauto`, 404, /not in mode Publish/],
    ['a scaler with no decision yet', `${METRIC}?labelSelector=scaler%3Dcold`, 503, /has not been reconciled yet/],
    ['another metric', '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/http_requests?labelSelector=scaler%3Dcheckout', 404, /serves the external metric prescale_desired_replicas only/],
    ['a bad namespace', '/apis/external.metrics.k8s.io/v1beta1/namespaces/Shop!/prescale_desired_replicas', 404, /the path must be/],
  ])('answers %s with a Status', async (_what, path, code, message) => {
    const { port } = await start();
    const r = await get(port, path, proxyClient, AS_HPA);
    expect(r.status).toBe(code);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', code });
    expect(r.body.message).toMatch(message);
  });

  it('returns no items when the selector also asks for labels the series lacks', async () => {
    const { port } = await start();
    const r = await get(port, `${METRIC}?labelSelector=${encodeURIComponent('scaler=checkout,app=web')}`, proxyClient, AS_HPA);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([]);
  });

  it('refuses every metric request with 503 while the front-proxy settings cannot be read, and says why', async () => {
    const { port } = await start({
      auth: async () => frontProxyAuthFrom({}),
    });
    const r = await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, AS_HPA);
    expect(r.status).toBe(503);
    expect(r.body.message).toMatch(/requestheader-client-ca-file/);
    expect((await get(port, '/readyz')).status).toBe(503);
  });
});

describe('frontProxyAuthFrom', () => {
  it('reads the lists kube-apiserver writes, with the defaults when absent', () => {
    expect(
      frontProxyAuthFrom({
        'requestheader-client-ca-file': '-----BEGIN CERTIFICATE-----\n',
        'requestheader-allowed-names': '["front-proxy-client"]',
        'requestheader-username-headers': '["X-Remote-User"]',
      }),
    ).toEqual({
      clientCa: '-----BEGIN CERTIFICATE-----\n',
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Remote-User'],
      groupHeaders: ['X-Remote-Group'],
      extraHeaderPrefixes: ['X-Remote-Extra-'],
    });
  });
  it('names what is wrong', () => {
    expect(() => frontProxyAuthFrom(undefined)).toThrow(/requestheader-client-ca-file/);
    expect(() => frontProxyAuthFrom({ 'requestheader-client-ca-file': '-----BEGIN CERTIFICATE-----', 'requestheader-allowed-names': '{"a":1}' })).toThrow(
      /requestheader-allowed-names is not a JSON list of strings/,
    );
  });
});

describe('external metrics API under hostile requests', () => {
  it('answers any path, query and identity headers with a deliberate status, and keeps serving', async () => {
    const fc = (await import('fast-check')).default;
    const { port, reviewed } = await start();
    const segment = fc.oneof(fc.constantFrom('apis', 'external.metrics.k8s.io', 'v1beta1', 'namespaces', 'shop', 'prescale_desired_replicas', '..', '%2e%2e', '%00', ''), fc.stringMatching(/^[A-Za-z0-9._~%-]{0,20}$/));
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 7 }),
        fc.stringMatching(/^[ -~]{0,60}$/),
        fc.option(fc.stringMatching(/^[!-~]{0,30}$/), { nil: undefined }),
        fc.boolean(),
        async (segments, selector, user, withCert) => {
          const path = `/${segments.join('/')}?labelSelector=${encodeURIComponent(selector)}`;
          const r = await get(port, path, withCert ? proxyClient : undefined, user === undefined ? {} : { 'X-Remote-User': user });
          expect([200, 400, 401, 403, 404, 503]).toContain(r.status);
          // Nothing without the front proxy's certificate is ever reviewed, let alone answered with a value.
          if (!withCert) expect(r.body?.items).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
    expect(reviewed.every((x) => x.user.username !== '')).toBe(true);
    expect((await get(port, `${METRIC}?labelSelector=scaler%3Dcheckout`, proxyClient, AS_HPA)).status).toBe(200);
  }, 60_000);
});
