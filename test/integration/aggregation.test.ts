// The aggregation layer of the test control plane with a local process as the extension API server:
// a tiny HTTPS server on 0.0.0.0 that trusts the front proxy as a real extension server does (the
// client certificate verified against requestheader-client-ca-file from the configmap
// kube-system/extension-apiserver-authentication, its CN among the allowed names) is exposed with
// exposeLocalPort() and registered with registerApiService(); requests to its group through the
// real kube-apiserver reach it with the caller in X-Remote-User / X-Remote-Group.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { request, createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposeLocalPort, hostAddress, registerApiService, unregister, waitForApiServiceAvailable } from '../../src/demo/env/aggregation.js';
import { certificateAuthority, issueCertificate } from '../../src/observability/self-signed-cert.js';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';

const GROUP = 'external.metrics.k8s.io';
const VERSION = 'v1beta1';

interface Seen {
  path: string;
  user: string | undefined;
  groups: string | undefined;
  peer: string | undefined;
}

let cp: ControlPlane;
let server: Server;
let serverPort: number;
const seen: Seen[] = [];
let authConfig: Record<string, string>;

beforeAll(async () => {
  cp = await startControlPlane({ aggregation: true });
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  authConfig = (await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' })).data ?? {};
  const allowedNames = JSON.parse(authConfig['requestheader-allowed-names'] ?? '[]') as string[];
  const userHeaders = JSON.parse(authConfig['requestheader-username-headers'] ?? '[]') as string[];
  const groupHeaders = JSON.parse(authConfig['requestheader-group-headers'] ?? '[]') as string[];

  const servingCa = certificateAuthority({ commonName: 'test-extension-ca' });
  const serving = issueCertificate({ issuer: servingCa, commonName: 'test-extension', hosts: [hostAddress(), '127.0.0.1'] });
  server = createServer(
    // As an extension API server with delegated authentication does: a client certificate is
    // optional at the TLS level and, when it is the front proxy's, the identity headers count.
    { cert: serving.cert, key: serving.key, ca: authConfig['requestheader-client-ca-file'], requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? String(socket.getPeerCertificate().subject?.CN) : undefined;
      if (!peer || !allowedNames.includes(peer)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401 }));
        return;
      }
      seen.push({ path: req.url ?? '', user: header(req.headers, userHeaders), groups: header(req.headers, groupHeaders), peer });
      if (req.method === 'GET' && req.url === `/apis/${GROUP}/${VERSION}`) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: `${GROUP}/${VERSION}`,
            resources: [{ name: 'externalmetrics', singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] }],
          }),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
    },
  );
  server.listen(0, '0.0.0.0');
  await once(server, 'listening');
  serverPort = (server.address() as AddressInfo).port;
}, 180_000);

afterAll(async () => {
  server?.close();
  await cp?.close();
});

describe('aggregation layer', () => {
  it('publishes the front proxy in extension-apiserver-authentication', async () => {
    const fp = cp.frontProxy!;
    expect(authConfig['requestheader-client-ca-file']?.trim()).toBe(fp.caCert.trim());
    expect(JSON.parse(authConfig['requestheader-allowed-names']!)).toEqual(['front-proxy-client']);
    expect(JSON.parse(authConfig['requestheader-username-headers']!)).toEqual(['X-Remote-User']);
    expect(JSON.parse(authConfig['requestheader-group-headers']!)).toEqual(['X-Remote-Group']);
    expect(JSON.parse(authConfig['requestheader-extra-headers-prefix']!)).toEqual(['X-Remote-Extra-']);
    const client = new X509Certificate(await readFile(fp.clientCertPath));
    expect(client.subject).toBe('CN=front-proxy-client');
    expect(client.checkIssued(new X509Certificate(await readFile(fp.caPath)))).toBe(true);
  });

  it('proxies an APIService to a local process through a selector-less Service and an EndpointSlice', async () => {
    const exposed = await exposeLocalPort(cp.kubeConfig, { namespace: 'default', name: 'test-extension', port: serverPort });
    expect(exposed.address).not.toMatch(/^127\./);
    const apiService = await registerApiService(cp.kubeConfig, { group: GROUP, version: VERSION, service: exposed, timeoutMs: 45_000 });
    expect(apiService.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    // The availability check came as the aggregator itself.
    expect(seen.some((s) => s.user === 'system:kube-aggregator' && s.peer === 'front-proxy-client')).toBe(true);

    const body = JSON.parse(await apiGet(`/apis/${GROUP}/${VERSION}`)) as { kind: string; groupVersion: string };
    expect(body).toMatchObject({ kind: 'APIResourceList', groupVersion: `${GROUP}/${VERSION}` });
    const mine = seen.filter((s) => s.user === 'admin');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.at(-1)!.groups).toContain('system:masters');
  }, 90_000);

  it('lets a test call the extension server directly as the front proxy does', async () => {
    const fp = cp.frontProxy!;
    const [cert, key] = await Promise.all([readFile(fp.clientCertPath), readFile(fp.clientKeyPath)]);
    const asProxy = await directGet(`/apis/${GROUP}/${VERSION}`, { cert, key, headers: { 'X-Remote-User': 'alice', 'X-Remote-Group': 'devs' } });
    expect(asProxy.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ user: 'alice', groups: 'devs' });
    const anonymous = await directGet(`/apis/${GROUP}/${VERSION}`, { headers: { 'X-Remote-User': 'mallory' } });
    expect(anonymous.status).toBe(401);
  });

  it('reports why an APIService is not Available', async () => {
    const exposed = await exposeLocalPort(cp.kubeConfig, { namespace: 'default', name: 'nothing-there', port: await closedPort() });
    await registerApiService(cp.kubeConfig, { group: 'nothing.prescale.dev', version: 'v1', service: exposed, timeoutMs: 0 });
    await expect(waitForApiServiceAvailable(cp.kubeConfig, 'v1.nothing.prescale.dev', 8_000)).rejects.toThrow(/not Available after 8000 ms: FailedDiscoveryCheck: failing or missing response from https:\/\/[\d.]+:\d+\/apis\/nothing.prescale.dev\/v1/);
    await unregister(cp.kubeConfig, 'v1.nothing.prescale.dev', exposed);
    await expect(cp.kubeConfig.makeApiClient(CoreV1Api).readNamespacedService({ namespace: 'default', name: 'nothing-there' })).rejects.toThrow();
  }, 30_000);
});

function header(headers: Record<string, string | string[] | undefined>, names: string[]): string | undefined {
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value !== undefined) return Array.isArray(value) ? value.join(',') : value;
  }
  return undefined;
}

/** GET through the API server as the admin. */
function apiGet(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${cp.server}${path}`,
      { headers: { Authorization: `Bearer ${cp.adminToken}` }, ca: Buffer.from(cp.caData!, 'base64') },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function directGet(path: string, options: { cert?: Buffer; key?: Buffer; headers?: Record<string, string> }): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: serverPort, path, rejectUnauthorized: false, cert: options.cert, key: options.key, headers: options.headers ?? {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function closedPort(): Promise<number> {
  const srv = createNetServer();
  srv.listen(0, '0.0.0.0');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
