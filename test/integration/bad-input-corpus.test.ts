// The bad-input corpus (test/fixtures/bad-inputs/scalers.ts) against a real kube-apiserver with the
// CRD of crds/, a scripted Prometheus, and `prescale run` as a process with the deploy/ ServiceAccount's
// token: every case ends in an admission rejection naming the field, or in a condition whose reason
// and message say what to fix, and the operator stays up throughout and keeps reconciling.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { CASES, baseSpec, type BadInputCase } from '../fixtures/bad-inputs/scalers.js';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { condition, eventually } from '../helpers/eventually.js';
import { renderKustomization } from '../helpers/kustomize.js';
import { applyManifests, describeApiError } from '../helpers/manifests.js';
import { spawnOperator, type OperatorProcess } from '../helpers/operator-process.js';
import { startScriptedPrometheus, type ScriptedPrometheus } from '../helpers/scripted-prometheus.js';

const NS = 'corpus';
const CRD_PATH = 'crds/predictivescalers.autoscaling.prescale.dev.yaml';
const CANARY = 'canary-after-the-corpus';

let cp: ControlPlane;
let prom: ScriptedPrometheus;
let operator: OperatorProcess;
let admin: KubeConfig;
let workDir: string;
/** How the API server answered each create: undefined when it stored the scaler. */
const created = new Map<string, { code?: number; message: string } | undefined>();

type ScalerInput = Pick<BadInputCase, 'id' | 'name' | 'spec' | 'annotations' | 'prometheus'>;

const scalerName = (c: ScalerInput) => c.name ?? c.id;

function manifest(c: ScalerInput): PredictiveScaler {
  const spec = baseSpec(c.id);
  if (c.prometheus) spec.prometheus = { url: prom.urlFor(c.prometheus) };
  c.spec?.(spec);
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name: scalerName(c), namespace: NS, ...(c.annotations ? { annotations: c.annotations } : {}) },
    spec: spec as PredictiveScaler['spec'],
  };
}

/** Schema keywords that bound values rather than state their types. */
const VALUE_RULES = [
  'x-kubernetes-validations', 'minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'minProperties', 'maxProperties', 'enum', 'anyOf', 'allOf', 'not',
];

/** The CRD with the spec's types only: what stood before its admission rules (each earlier version checked at least that). */
function crdCheckingOnlyTypes(): string {
  const crd = parse(readFileSync(CRD_PATH, 'utf8'));
  const strip = (schema: Record<string, any>): void => {
    for (const key of VALUE_RULES) delete schema[key];
    for (const child of Object.values(schema.properties ?? {})) strip(child as Record<string, any>);
    if (schema.items) strip(schema.items);
  };
  strip(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec);
  return JSON.stringify(crd);
}

/** The CRD with no schema for spec at all. */
function crdWithoutSchema(): string {
  const crd = parse(readFileSync(CRD_PATH, 'utf8'));
  crd.spec.versions[0].schema.openAPIV3Schema.properties.spec = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return JSON.stringify(crd);
}

async function create(c: BadInputCase): Promise<void> {
  try {
    if (c.via === 'raw') await postRaw(admin, `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`, rawBody(c));
    else await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: manifest(c) });
    created.set(c.id, undefined);
  } catch (err) {
    created.set(c.id, { code: (err as { code?: number }).code, message: describeApiError(err) });
  }
}

function rawBody(c: BadInputCase): string {
  return `{"apiVersion":"${GROUP}/${VERSION}","kind":"PredictiveScaler","metadata":{"name":"${scalerName(c)}","namespace":"${NS}"},"spec":${c.rawSpec!(c.id)}}`;
}

/** POSTs JSON text as is; rejects with { code, body } as the client library does. */
async function postRaw(kc: KubeConfig, path: string, body: string): Promise<void> {
  const options: import('node:https').RequestOptions = { method: 'POST', headers: { 'Content-Type': 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  await new Promise<void>((resolveDone, reject) => {
    const req = request(new URL(path, kc.getCurrentCluster()!.server), options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 201 ? resolveDone() : reject(Object.assign(new Error(text), { code: res.statusCode, body: text }))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function getScaler(name: string): Promise<PredictiveScaler> {
  return (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, name })) as PredictiveScaler;
}

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
  },
});

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-bad-inputs-'));
  [cp, prom] = await Promise.all([startControlPlane(), startScriptedPrometheus()]);
  admin = cp.kubeConfig;
  // With the component that lets the operator read auth Secrets, so the Secret cases test the opt-in label.
  await applyManifests(admin, await renderKustomization('deploy', ['deploy/components/prometheus-auth-secrets']));
  await applyManifests(admin, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    // A credential that is real but was never offered to prescale (no opt-in label).
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'default-token', namespace: NS }, stringData: { token: 'a-service-account-token', 'ca.crt': 'x' } },
  ]);
  await applyManifests(admin, [...CASES.map((c) => deployment(c.id)), deployment(CANARY)]);

  // Objects stored before the CRD had any schema, then before its rules existed; then the real CRD
  // replaces the unvalidated one.
  await applyManifests(admin, crdWithoutSchema());
  await Promise.all(CASES.filter((c) => c.via === 'untyped').map(create));
  await applyManifests(admin, crdCheckingOnlyTypes());
  await Promise.all(CASES.filter((c) => c.via === 'legacy').map(create));
  await applyManifests(admin, CRD_PATH);
  const probe = CASES.find((c) => c.id === 'adm-interval-25d')!;
  await eventually(
    'the CRD rules to be in force',
    async () => {
      try {
        await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL, body: manifest(probe), dryRun: 'All' });
        return false;
      } catch {
        return true;
      }
    },
    (rejected) => rejected,
    20_000,
  );

  const kubeconfig = join(workDir, 'operator.kubeconfig');
  await writeFile(kubeconfig, cp.tokenKubeConfig(await mintServiceAccountToken(admin, 'prescale-system', 'prescale')).exportConfig(), { mode: 0o600 });
  operator = spawnOperator([
    '--kubeconfig', kubeconfig,
    '--prometheus-url', prom.urlFor('healthy'),
    '--prometheus-url-allowlist', `${prom.url}/`,
    '--metrics-bind-address', '127.0.0.1:0',
    '--health-probe-bind-address', '127.0.0.1:0',
    '--no-learn-lead-time',
    '--concurrency', '4',
    '--prometheus-auth-secrets',
    '--enforce-namespace-label', 'namespace',
    // The tarpit case ends at this deadline.
    '--reconcile-timeout', '5s',
  ]);
  await operator.waitForLog((l) => l.msg === 'prescale operator starting', 60_000);
  await Promise.all(CASES.filter((c) => c.via !== 'legacy' && c.via !== 'untyped').map(create));
}, 180_000);

afterAll(async () => {
  operator?.kill('SIGKILL');
  await operator?.exited;
  await Promise.all([cp?.close(), prom?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the bad-input corpus', () => {
  it('has at least 40 PredictiveScalers, each with a unique name', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map(scalerName)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const answer = created.get(c.id);
    if ('rejected' in c.expect) {
      const { field, says, code = 422 } = c.expect.rejected;
      expect(answer, 'the API server stored a scaler it should have rejected').toBeDefined();
      expect(answer!.code).toBe(code);
      if (field) expect(answer!.message).toContain(`${field}:`);
      expect(answer!.message).toContain(says);
      return;
    }
    expect(answer, `the API server refused the scaler: ${answer?.message}`).toBeUndefined();
    if ('event' in c.expect) {
      const { reason, says } = c.expect.event;
      const events = await eventually(
        `${c.id}: Event ${reason}`,
        async () => (await admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS })).items.filter((e) => e.regarding?.name === scalerName(c) && e.reason === reason),
        (found) => found.length > 0,
        45_000,
      );
      expect(events[0]!.type).toBe('Warning');
      if (typeof says === 'string') expect(events[0]!.note).toContain(says);
      else expect(events[0]!.note).toMatch(says);
      return;
    }
    const { type, status, reason, says } = c.expect.condition;
    const scaler = await eventually(`${c.id}: ${type} ${reason}`, () => getScaler(scalerName(c)), (s) => condition(s, type)?.reason === reason, 45_000);
    const written = condition(scaler, type)!;
    expect(written.status).toBe(status);
    if (typeof says === 'string') expect(written.message).toContain(says);
    else expect(written.message).toMatch(says);
    if (reason === 'InvalidSpec') expect(condition(scaler, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  }, 60_000);

  it('keeps the operator up: no crash, health still answered, a scaler created afterwards still reconciled', async () => {
    await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      body: manifest({ id: CANARY }),
    });
    const canary = await eventually('canary reconciled', () => getScaler(CANARY), (s) => condition(s, 'Ready')?.reason === 'Reconciled', 60_000);
    expect(condition(canary, 'Ready')?.status).toBe('True');

    const starting = operator.logs.find((l) => l.msg === 'prescale operator starting')!;
    const probes = starting.probes as { port: number };
    expect((await fetch(`http://127.0.0.1:${probes.port}/healthz`)).status).toBe(200);
    const exited = await Promise.race([operator.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    expect(exited, `the operator exited; stderr:\n${operator.stderr.slice(-2000)}`).toBeUndefined();
    expect(operator.stderr).not.toMatch(/unhandled|uncaught|heap out of memory|FATAL/i);
    expect(operator.logs.filter((l) => l.level === 'fatal' || /unhandled|uncaught/i.test(String(l.msg)))).toEqual([]);
  });

  it('lets nothing a remote server or a Secret holds reach any status or Event', async () => {
    const list = (await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: PLURAL })) as { items: PredictiveScaler[] };
    // Status only: some specs carry hostile text on purpose.
    const statuses = JSON.stringify(list.items.map((s) => s.status));
    const events = JSON.stringify((await admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NS })).items.map((e) => e.message ?? ''));
    for (const text of [statuses, events]) {
      expect(text).not.toMatch(/hunter2|admin console|exfiltrate|127\.0\.0\.2|a-service-account-token|ca\.crt|\\u001b/);
    }
    expect(operator.logs.map((l) => JSON.stringify(l)).join('\n')).not.toMatch(/hunter2|a-service-account-token|ca\.crt/);
  });

  it('gives the two long scaler names model ConfigMaps of their own', async () => {
    const longNames = CASES.filter((c) => c.id.startsWith('long-name-')).map(scalerName);
    const modelConfigMaps = async () =>
      (await admin.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS })).items
        .filter((cm) => longNames.includes(cm.metadata?.ownerReferences?.[0]?.name ?? ''))
        .map((cm) => ({ name: cm.metadata!.name!, owner: cm.metadata!.ownerReferences![0]!.name }));
    const found = await eventually('a model ConfigMap per long-named scaler', modelConfigMaps, (cms) => cms.length >= longNames.length, 45_000);
    expect(found.map((cm) => cm.owner).sort()).toEqual([...longNames].sort());
    expect(new Set(found.map((cm) => cm.name)).size).toBe(longNames.length);
  }, 60_000);
});
