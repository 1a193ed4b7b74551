// `prescale run` at start-up, as a user meets it: no cluster configured, a cluster that refuses, does
// not answer, fails TLS or refuses the token — each one line on stderr and exit 1, bounded by
// --startup-timeout; a ServiceAccount that may not list predictivescalers — retried until the
// deadline (controller-runtime's CacheSyncTimeout), then exit 1 naming the resource; and the deploy/
// ServiceAccount — /readyz 503 naming the informers that have not listed, 200 once they have.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { installOperatorManifests } from '../helpers/deployed-operator.js';
import { applyManifests } from '../helpers/manifests.js';
import { spawnOperator, type LogLine, type OperatorProcess } from '../helpers/operator-process.js';

const CLI = 'dist/cli/main.js';
const NO_PORTS = ['--metrics-bind-address', '0', '--health-probe-bind-address', '0', '--no-persist-models'];
let dir: string;
let plane: ControlPlane;

/** The environment of a user with no cluster: no kubeconfig, not in a pod. */
const bareEnv = (overrides: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, ...overrides });

function prescaleRun(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The kill timeout only ends a hung test; the bound under test is --startup-timeout.
    execFile('node', [CLI, 'run', ...args], { env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

async function kubeconfigFile(name: string, kc: KubeConfig): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

function kubeconfigFor(server: string, token: string, caData?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData, skipTLSVerify: false }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const oneLine = (stderr: string): string[] => stderr.trimEnd().split('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-startup-'));
  plane = await startControlPlane();
  await applyManifests(plane.kubeConfig, 'crds');
}, 180_000);

afterAll(async () => {
  await plane?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('prescale run without a usable cluster', () => {
  it('says in one line that no cluster is configured: empty KUBECONFIG, or no kubeconfig at all', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    const empty = join(dir, 'empty-kubeconfig');
    await writeFile(empty, '');
    for (const env of [bareEnv({ HOME: home, KUBECONFIG: empty }), bareEnv({ HOME: home })]) {
      const r = await prescaleRun(NO_PORTS, env);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/^prescale: error: no Kubernetes cluster configured: pass --kubeconfig/)]);
      expect(r.stdout).not.toContain('watch failed');
    }
  });

  it('a closed loopback port: connection refused, naming the server', async () => {
    const port = await closedPort();
    const kubeconfig = await kubeconfigFile('refused', kubeconfigFor(`https://127.0.0.1:${port}`, 'x'));
    const r = await prescaleRun(['--kubeconfig', kubeconfig, ...NO_PORTS]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`prescale: error: cannot use the Kubernetes API server at https://127.0.0.1:${port}: connection refused (nothing listens there: is the cluster running, and is this its address?)`]);
    expect(r.stdout).not.toContain('informer caches synced');
  });

  it('a server that accepts connections and never answers: gives up at --startup-timeout', async () => {
    // Raw TCP on purpose: the TLS client waits there for a server hello that never comes.
    const held = new Set<Socket>();
    const tarpit: Server = createTcpServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const { port } = tarpit.address() as AddressInfo;
    try {
      const kubeconfig = await kubeconfigFile('tarpit', kubeconfigFor(`https://127.0.0.1:${port}`, 'x'));
      const r = await prescaleRun(['--kubeconfig', kubeconfig, '--startup-timeout', '2s', ...NO_PORTS]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toEqual([`prescale: error: cannot use the Kubernetes API server at https://127.0.0.1:${port}: no answer within 2s (is the address right, and is the cluster up?)`]);
      expect(held.size).toBeGreaterThan(0);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => tarpit.close(resolve));
    }
  });

  it('a certificate the kubeconfig does not trust: TLS', async () => {
    const kubeconfig = await kubeconfigFile('untrusted', kubeconfigFor(plane.server, plane.adminToken));
    const r = await prescaleRun(['--kubeconfig', kubeconfig, ...NO_PORTS]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^prescale: error: cannot use the Kubernetes API server at ${plane.server}: TLS: .*certificate.*\\(check certificate-authority-data`))]);
  });

  it('a token the API server refuses: 401 with the hint about the token', async () => {
    const kubeconfig = await kubeconfigFile('bad-token', kubeconfigFor(plane.server, 'not-a-token', plane.caData));
    const r = await prescaleRun(['--kubeconfig', kubeconfig, ...NO_PORTS]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^prescale: error: cannot use the Kubernetes API server at ${plane.server}: 401 Unauthorized: .*ServiceAccount token`))]);
  });
});

describe('prescale run with a ServiceAccount', () => {
  it('that may list HPAs and pods but not predictivescalers: retries until --startup-timeout, then exits 1 naming predictivescalers', async () => {
    await applyManifests(plane.kubeConfig, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'limited' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'no-scalers', namespace: 'limited' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'no-scalers' },
        rules: [
          { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'watch'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'no-scalers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'no-scalers' },
        subjects: [{ kind: 'ServiceAccount', name: 'no-scalers', namespace: 'limited' }],
      },
    ] as never[]);
    const token = await mintServiceAccountToken(plane.kubeConfig, 'limited', 'no-scalers');
    const kubeconfig = await kubeconfigFile('no-scalers', plane.tokenKubeConfig(token));
    const r = await prescaleRun(['--kubeconfig', kubeconfig, '--startup-timeout', '4s', ...NO_PORTS]);
    expect(r.code).toBe(1);
    const [line, ...more] = oneLine(r.stderr);
    expect(more).toEqual([]);
    expect(line).toMatch(new RegExp(`^prescale: error: the Kubernetes API server at ${plane.server} answers, but within 4s these could not be listed: predictivescalers \\(HTTP 403: `));
    expect(line).toContain('cannot list resource "predictivescalers"');
    expect(line).toContain('system:serviceaccount:limited:no-scalers');
    expect(line).toMatch(/grant the ServiceAccount list and watch on it: deploy\/base\/clusterrole\.yaml\)$/);
    expect(line).not.toMatch(/horizontalpodautoscalers|pods \(/);
    // It kept retrying within the deadline, and never claimed to be synced.
    const logs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
    expect(logs.filter((l) => l.msg === 'watch failed; restarting' && l.informer === 'predictivescalers').length).toBeGreaterThan(1);
    expect(logs.some((l) => l.msg === 'informer caches synced')).toBe(false);
  }, 60_000);

  it('of deploy/, started before its RBAC exists: /readyz 503 naming the informers until they have listed, then 200', async () => {
    await applyManifests(plane.kubeConfig, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prescale-system' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prescale', namespace: 'prescale-system' } },
    ] as never[]);
    const token = await mintServiceAccountToken(plane.kubeConfig, 'prescale-system', 'prescale');
    const kubeconfig = await kubeconfigFile('deploy', plane.tokenKubeConfig(token));
    let operator: OperatorProcess | undefined;
    try {
      operator = spawnOperator(['--kubeconfig', kubeconfig, '--metrics-bind-address', '0', '--health-probe-bind-address', '127.0.0.1:0', '--no-persist-models', '--startup-timeout', '2m']);
      const probes = ((await operator.waitForLog((l) => l.msg === 'serving health probes', 60_000)).address as { port: number }).port;
      await operator.waitForLog((l) => l.msg === 'watch failed; restarting' && l.informer === 'predictivescalers' && l.status === 403);
      const before = await readyz(probes);
      expect(before.status).toBe(503);
      expect(before.body).toContain('informers have not listed yet: predictivescalers, horizontalpodautoscalers, pods');
      // The body names the informers only: the reasons (user names, resources) stay in the log.
      expect(before.body).not.toContain('system:serviceaccount');

      await installOperatorManifests(plane);
      await operator.waitForLog((l) => l.msg === 'informer caches synced', 90_000);
      // Ready from the moment the caches synced: the log line is written after the informers listed.
      expect(await readyz(probes)).toEqual({ status: 200, body: 'ok' });
    } finally {
      if (operator) {
        operator.kill('SIGTERM');
        const exit = await operator.exited;
        expect(exit.code).toBe(0);
      }
    }
  }, 180_000);
});

function readyz(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
