// `prescale status` (the compiled CLI) against a real kube-apiserver: scalers whose status is written
// through the status subresource as anyone with that right may write it, hostile values included,
// targets whose Ready replicas the caller may or may not read, an empty namespace, and API servers
// that refuse or do not answer.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { deployment, NS, scalerClient, steadyScaler } from '../helpers/fault-fixtures.js';
import { applyManifests } from '../helpers/manifests.js';

const run = promisify(execFile);
const CLI = 'dist/cli/main.js';
const EMPTY_NS = 'quiet';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** What no line of output may hold: C0 controls but line feed, DEL and C1 controls. */
const CONTROL = /[\x00-\x09\x0B-\x1F\x7F-\x9F]/;

let cp: ControlPlane;
let dir: string;
/** Admin credentials, the context's namespace set to `shop`. */
let shopKubeconfig: string;

async function prescale(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: `${type} is ${status}`, lastTransitionTime: '2026-03-02T13:00:00Z' });

const HEALTHY_CONDITIONS = [
  condition('Ready', 'True', 'Reconciled'),
  condition('AbleToScale', 'True', 'ReadyForNewScale'),
  condition('ForecastAvailable', 'True', 'ForecastComputed'),
  condition('ScalingLimited', 'False', 'DesiredWithinRange'),
  condition('Degraded', 'False', 'Healthy'),
];

function forecast(model: string, points: number[]) {
  return { model, generatedAt: '2026-03-02T14:00:00Z', peak: Math.max(...points), peakAt: '2026-03-02T14:20:00Z', lower: 1, upper: 2, points };
}

function statefulSet(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 2,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'model', image: 'registry.invalid/model:1' }] } },
    },
  };
}

/** A kubeconfig file for `token`, its context's namespace `namespace`. */
async function kubeconfigFile(name: string, server: string, token: string, namespace: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: cp.caData, skipTLSVerify: cp.caData === undefined }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u', namespace }],
    currentContext: 'ctx',
  });
  const path = join(dir, name);
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

/** A ServiceAccount in `shop` that may list PredictiveScalers there, and read nothing else. */
async function scalerLister(): Promise<string> {
  const admin = cp.kubeConfig;
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'lister', namespace: NS } }]);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'lister' }, rules: [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['list'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace: NS,
    body: { metadata: { name: 'lister' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lister' }, subjects: [{ kind: 'ServiceAccount', name: 'lister', namespace: NS }] },
  });
  return kubeconfigFile('lister.yaml', cp.server, await mintServiceAccountToken(admin, NS, 'lister'), NS);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-status-'));
  cp = await startControlPlane();
  const admin = cp.kubeConfig;
  await applyManifests(admin, [
    'crds/predictivescalers.autoscaling.prescale.dev.yaml',
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ${EMPTY_NS}}\n`,
  ]);
  const apps = admin.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment('checkout', 3) });
  await apps.patchNamespacedDeploymentStatus({ namespace: NS, name: 'checkout', body: { status: { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 } } }, mergePatch);
  await apps.createNamespacedStatefulSet({ namespace: NS, body: statefulSet('model-server') });
  await apps.patchNamespacedStatefulSetStatus({ namespace: NS, name: 'model-server', body: { status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 } } }, mergePatch);

  const scalers = scalerClient(admin);
  const modelServer = steadyScaler('model-server', 8);
  modelServer.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'model-server' };
  for (const s of [steadyScaler('checkout', 20), modelServer, steadyScaler('hostile', 5), steadyScaler('pending', 5)] as PredictiveScaler[]) await scalers.create(s);
  await scalers.patchStatus('checkout', {
    status: { currentReplicas: 3, desiredReplicas: 9, leadTime: '2m', leadTimeSource: 'Learned', forecast: forecast('HoltWinters', [100, 200, 400, 800]), conditions: HEALTHY_CONDITIONS },
  });
  await scalers.patchStatus('model-server', {
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      leadTime: '5m',
      leadTimeSource: 'Fixed',
      conditions: [condition('Ready', 'True', 'Reconciled'), condition('ForecastAvailable', 'False', 'InsufficientHistory'), condition('Degraded', 'True', 'NoData')],
    },
  });
  // What anyone with patch on the status subresource may write: escape sequences (a terminal title,
  // a clipboard write, a screen clear), a right-to-left override, megabytes of text, extreme numbers.
  await scalers.patchStatus('hostile', {
    status: {
      currentReplicas: 2147483647,
      leadTime: `\x1b]0;owned\x07\u202E${'9'.repeat(100_000)}`,
      forecast: { ...forecast(`\x1b]52;c;ZWNobyBvd25lZA==\x07${'M'.repeat(1_000_000)}`, [1e308, -1e308, 0]), peak: 1e308 },
      conditions: [condition('\x1b[2JReady', 'False', `\x1b[31m${'R'.repeat(1000)}`), condition('Degraded', 'True', '\u009b6n')],
    },
  });
  shopKubeconfig = await kubeconfigFile('shop.yaml', cp.server, cp.adminToken, NS);
}, 180_000);

afterAll(async () => {
  await cp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The table's lines by scaler name (the first column without -A). */
function rowsByName(stdout: string): Map<string, string> {
  return new Map(stdout.trimEnd().split('\n').slice(1).map((line) => [line.split(' ')[0]!, line]));
}

describe('prescale status', () => {
  it("lists the scalers of the current context's namespace, aligned, with Ready replicas and a sparkline", async () => {
    const r = await prescale('status', '--kubeconfig', shopKubeconfig);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b'); // not a terminal: no colour
    const header = r.stdout.split('\n')[0]!;
    expect(header).toMatch(/^NAME +TARGET +MODE +CURRENT +DESIRED +READY +MODEL +LEAD TIME +PEAK +FORECAST +CONDITIONS$/);
    const rows = rowsByName(r.stdout);
    expect([...rows.keys()].sort()).toEqual(['checkout', 'hostile', 'model-server', 'pending']);

    const checkout = rows.get('checkout')!;
    expect(checkout).toMatch(/^checkout +Deployment\/checkout +Auto +3 +9 +3 +HoltWinters +2m \(Learned\) +800 +▂▃▅█ +<healthy>$/);
    const modelServer = rows.get('model-server')!;
    expect(modelServer).toMatch(/^model-server +StatefulSet\/model-server +Auto +2 +2 +1 +- +5m \(Fixed\) +- +- +ForecastAvailable=InsufficientHistory,Degraded=NoData$/);
    expect(rows.get('pending')).toMatch(/^pending +Deployment\/pending +Auto +- +- +- .*<not reconciled yet>$/);
    // Every column starts where its header does.
    for (const line of rows.values()) {
      for (const column of ['TARGET', 'MODE', 'MODEL', 'LEAD TIME', 'CONDITIONS']) {
        const at = header.indexOf(column);
        expect(line[at - 1], `${column} in ${line.slice(0, 20)}`).toBe(' ');
        expect(line[at], `${column} in ${line.slice(0, 20)}`).not.toBe(' ');
      }
    }
  });

  it('prints a hostile status without one control character, each field cut short', async () => {
    const r = await prescale('status', '-n', NS, '--kubeconfig', cp.kubeconfigPath);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(CONTROL);
    const hostile = rowsByName(r.stdout).get('hostile')!;
    expect(Array.from(hostile).length).toBeLessThan(400);
    expect(hostile).toMatch(/ 2147483647 /);
    expect(hostile).toContain(' ?]52;c;ZWNobyBvd25l… ');
    expect(hostile).toContain('…');
    expect(hostile).toContain('1.00e+308');
    expect(hostile).toContain('?[2JReady=?[31mRRR');
    expect(hostile).toContain('?]0;owned??999');
    expect(hostile).toContain('Degraded=?6n');
  });

  it('-A -o json lists every namespace, sanitized, and pages through the list', async () => {
    const r = await prescale('status', '-A', '-o', 'json', '--chunk-size', '1', '--kubeconfig', cp.kubeconfigPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { items } = JSON.parse(r.stdout) as { items: Record<string, unknown>[] };
    expect(items.map((i) => `${i.namespace}/${i.name}`).sort()).toEqual([`${NS}/checkout`, `${NS}/hostile`, `${NS}/model-server`, `${NS}/pending`]);
    expect(items.find((i) => i.name === 'checkout')).toMatchObject({ readyReplicas: 3, forecast: [100, 200, 400, 800], problems: [] });
    const hostile = items.find((i) => i.name === 'hostile')!;
    expect(JSON.stringify(hostile)).not.toMatch(/\\u00[01]|\\u007f|[\u0080-\u009f]/i);
    expect(String(hostile.model).length).toBeLessThan(300);
    expect(r.stdout.length).toBeLessThan(10_000);
  });

  it('says so, exit status 0, for a namespace without scalers', async () => {
    const r = await prescale('status', '-n', EMPTY_NS, '--kubeconfig', cp.kubeconfigPath);
    expect(r).toEqual({ code: 0, stdout: `No PredictiveScalers found in namespace ${EMPTY_NS}.\n`, stderr: '' });
    // The admin kubeconfig's context namespace is "default".
    expect((await prescale('status', '--kubeconfig', cp.kubeconfigPath)).stdout).toBe('No PredictiveScalers found in namespace default.\n');
  });

  it('shows "-" as Ready when the caller may list scalers but not read their targets', async () => {
    const r = await prescale('status', '--kubeconfig', await scalerLister());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(rowsByName(r.stdout).get('checkout')).toMatch(/^checkout +Deployment\/checkout +Auto +3 +9 +- +HoltWinters /);
  });

  it('fails in one line naming what is wrong when the caller may not list scalers, or the namespace flag is not a name', async () => {
    await applyManifests(cp.kubeConfig, [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: 'default' } }]);
    const nobody = await kubeconfigFile('nobody.yaml', cp.server, await mintServiceAccountToken(cp.kubeConfig, 'default', 'nobody'), 'default');
    const forbidden = await prescale('status', '-n', NS, '--kubeconfig', nobody);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^prescale: error: not allowed to list PredictiveScalers in namespace shop: .*forbidden.*\n$/);
    const badName = await prescale('status', '-n', '../etc', '--kubeconfig', nobody);
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toContain('must be a namespace name');
  });

  it('the CRD keeps status.forecast.points to a sparkline: at most 24 numbers', async () => {
    const scalers = scalerClient(cp.kubeConfig);
    const tooMany = scalers.patchStatus('pending', { status: { forecast: forecast('Linear', Array.from({ length: 25 }, (_, i) => i)) } });
    await expect(tooMany).rejects.toMatchObject({ code: 422 });
    await expect(scalers.patchStatus('pending', { status: { forecast: { points: ['1'] } } })).rejects.toMatchObject({ code: 422 });
    expect((await scalers.get('pending')).status?.forecast).toBeUndefined();
  });

  it('gives up with a one-line error when the API server accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const kubeconfig = await kubeconfigFile('silent.yaml', `https://127.0.0.1:${port}`, 'token', NS);
      const r = await prescale('status', '--kubeconfig', kubeconfig, '--request-timeout', '1s');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`prescale: error: https://127.0.0.1:${port} did not answer in time; check the cluster, or raise --request-timeout\n`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
