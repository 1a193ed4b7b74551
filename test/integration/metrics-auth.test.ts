// --metrics-secure against a real API server: `prescale run` as a process under the deploy/
// ServiceAccount token plus deploy/components/secure-metrics' RBAC serves /metrics over HTTPS, and
// only to a token whose user may get /metrics (TokenReview + SubjectAccessReview).
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { eventually } from '../helpers/eventually.js';
import { installOperatorManifests, startDeployedOperator, type DeployedOperator } from '../helpers/deployed-operator.js';
import { applyManifests } from '../helpers/manifests.js';
import { rawExchange } from '../helpers/raw-http.js';

const COMPONENT_RBAC = 'deploy/components/secure-metrics/rbac.yaml';

let plane: ControlPlane;
let operator: DeployedOperator;
let serverCert: string;

const serviceAccount = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace, name } });

beforeAll(async () => {
  plane = await startControlPlane();
  await installOperatorManifests(plane);
  await applyManifests(plane.kubeConfig, COMPONENT_RBAC);
  await applyManifests(plane.kubeConfig, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } },
    serviceAccount('monitoring', 'prometheus'),
    serviceAccount('default', 'intruder'),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'prometheus-reads-prescale-metrics' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'prescale-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
    },
  ]);
  operator = await startDeployedOperator(plane, ['--metrics-secure']);
  serverCert = await peerCertificate(operator.metricsPort);
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.close();
});

/** The PEM certificate the server presents; later requests trust exactly it. */
function peerCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(der).toString());
    });
    socket.on('error', reject);
  });
}

function scrape(token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: operator.metricsPort, path: '/metrics', ca: serverCert, servername: 'localhost', headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('--metrics-secure', () => {
  it('presents a self-signed certificate for localhost made at start', () => {
    const cert = new X509Certificate(serverCert);
    expect(cert.subject).toBe('CN=prescale-metrics');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it('serves a ServiceAccount bound to prescale-metrics-reader', async () => {
    const token = await mintServiceAccountToken(plane.kubeConfig, 'monitoring', 'prometheus');
    const answer = await scrape(token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^prescale_leader 1$/m);
    expect(answer.body).toMatch(/^prescale_unhandled_rejections_total 0$/m);
    // A second scrape is answered from the cached verdict just the same.
    expect((await scrape(token)).status).toBe(200);
  });

  it('answers 403 to an authenticated ServiceAccount without the binding', async () => {
    const answer = await scrape(await mintServiceAccountToken(plane.kubeConfig, 'default', 'intruder'));
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('system:serviceaccount:default:intruder');
    expect(answer.body).not.toContain('prescale_');
  });

  it('answers 401 without a token, with a garbage token, a forged JWT and a truncated token', async () => {
    for (const token of [undefined, '', 'garbage', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', plane.adminToken.slice(0, -2)]) {
      const answer = await scrape(token);
      expect(answer.status, String(token)).toBe(401);
      expect(answer.body).not.toContain('prescale_');
    }
  });

  it('serves no plain HTTP on the metrics port, while the probes stay plain HTTP', async () => {
    const plain = await rawExchange(operator.metricsPort, { chunks: ['GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'], waitMs: 5000 });
    expect(plain.statuses).toEqual([]);
    expect(plain.closedByServer).toBe(true);
    expect((await fetch(`http://127.0.0.1:${operator.probesPort}/healthz`)).status).toBe(200);
  });

  it('needs the component\'s review rights: without them a token it has not seen yet cannot be reviewed', async () => {
    const rbac = plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteClusterRoleBinding({ name: 'prescale-metrics-auth' });
    // A fresh token each time is not in the verdict cache, so the operator must ask the API server,
    // which refuses once its RBAC cache has seen the binding go.
    const freshScrape = async () => scrape(await mintServiceAccountToken(plane.kubeConfig, 'monitoring', 'prometheus'));
    try {
      const refused = await eventually('reviews to be refused', freshScrape, (a) => a.status !== 200, 20_000, 250);
      expect(refused.status).toBe(500);
      expect(refused.body).not.toContain('prescale_');
    } finally {
      await applyManifests(plane.kubeConfig, COMPONENT_RBAC);
    }
    await eventually('reviews to be allowed again', freshScrape, (a) => a.status === 200, 20_000, 250);
  });
});
