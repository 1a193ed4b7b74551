// The ConfigMap model store against a real API server with RBAC on, writing with the deploy/
// ServiceAccount's token: round trips, concurrent writers, size limits, corrupt and foreign entries,
// the signing key's Secret, and entries forged by a tenant who may only edit ConfigMaps.
// No controller-manager runs here, so garbage collection is only checked as far as the
// ownerReference that drives it.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { apiStatusCode } from '../../src/kube/errors.js';
import { toScalerConfig } from '../../src/api/config.js';
import { ModelManager, type ModelPersistence } from '../../src/controller/models.js';
import { modelConfigMapName } from '../../src/kube/model-envelope.js';
import { DEFAULT_SIGNING_SECRET_NAME, SecretSigningKey, SIGNING_KEY_DATA_KEY } from '../../src/kube/model-signing-key.js';
import { dailySine } from '../unit/forecast/fixtures.js';
import {
  ConfigMapModelStore,
  LAST_DISCARD_ANNOTATION,
  MANAGED_BY_LABEL,
  SCALER_LABEL,
  type ModelRecord,
  type ScalerRef,
} from '../../src/kube/model-store.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyKustomization, applyManifests, createMinimalScaler } from '../helpers/manifests.js';

const NS = 'models';
const OPERATOR_NS = 'prescale-system';
const SAVED_AT = new Date('2026-03-02T14:00:00.000Z');

let cp: ControlPlane;
let admin: KubeConfig;
let operator: KubeConfig;

beforeAll(async () => {
  cp = await startControlPlane();
  admin = cp.kubeConfig;
  await applyManifests(admin, 'crds');
  await applyKustomization(admin, 'deploy');
  await applyManifests(admin, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: NS } },
  ]);
  operator = cp.tokenKubeConfig(await mintServiceAccountToken(admin, OPERATOR_NS, 'prescale'));
  signingKey = new SecretSigningKey(operator, { namespace: OPERATOR_NS });
});

let signingKey: SecretSigningKey;

afterAll(async () => {
  await cp?.close();
});

function storeFor(kc = operator, options: Partial<ConstructorParameters<typeof ConfigMapModelStore>[1]> = {}): ConfigMapModelStore {
  return new ConfigMapModelStore(kc, { operatorVersion: '0.1.0-test', now: () => SAVED_AT, signingKey, ...options });
}

async function createScaler(name: string): Promise<ScalerRef> {
  const created = await createMinimalScaler(admin, NS, name);
  return { namespace: NS, name, uid: created.metadata.uid! };
}

async function deleteScaler(name: string): Promise<void> {
  await admin.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name });
}

async function readConfigMap(scaler: ScalerRef): Promise<V1ConfigMap | undefined> {
  try {
    return await admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: modelConfigMapName(scaler.name), namespace: NS });
  } catch (err) {
    if (apiStatusCode(err) === 404) return undefined;
    throw err;
  }
}

/** Sets one binaryData entry as an admin, behind the store's back. */
async function overwriteEntry(scaler: ScalerRef, key: string, bytes: Buffer): Promise<void> {
  const current = (await readConfigMap(scaler))!;
  await admin.makeApiClient(CoreV1Api).replaceNamespacedConfigMap({
    name: current.metadata!.name!,
    namespace: NS,
    body: { ...current, binaryData: { ...current.binaryData, [key]: bytes.toString('base64') } },
  });
}

function holtWinters(level: number): ModelRecord {
  return { model: 'HoltWinters', format: 1, level, trend: 0.5, season: Array.from({ length: 24 }, (_, i) => Math.sin(i / 4) * level) };
}

/** Random hex does not compress much: about half its length stays after gzip. */
function incompressible(bytes: number): ModelRecord {
  return { model: 'LSTM', format: 1, weights: randomBytes(bytes).toString('hex') };
}

describe('model signing key', () => {
  it('is created once in the operator namespace and reused by a second store instance', async () => {
    // Two replicas starting at once: both find no Secret, one create wins, the other reads it.
    const [one, two] = await Promise.all([new SecretSigningKey(operator, { namespace: OPERATOR_NS }).key(), new SecretSigningKey(operator, { namespace: OPERATOR_NS }).key()]);
    expect(one.length).toBe(32);
    expect(two.equals(one)).toBe(true);
    const secret = await admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: DEFAULT_SIGNING_SECRET_NAME, namespace: OPERATOR_NS });
    expect(Buffer.from(secret.data![SIGNING_KEY_DATA_KEY]!, 'base64').equals(one)).toBe(true);
    expect(secret.immutable).toBe(true);

    const scaler = await createScaler('two-replicas');
    const first = new ConfigMapModelStore(operator, { operatorVersion: 'a', now: () => SAVED_AT, signingKey: new SecretSigningKey(operator, { namespace: OPERATOR_NS }) });
    const second = new ConfigMapModelStore(operator, { operatorVersion: 'b', now: () => SAVED_AT, signingKey: new SecretSigningKey(operator, { namespace: OPERATOR_NS }) });
    await first.save(scaler, 'rps', holtWinters(5));
    expect(await second.load(scaler, 'rps')).toEqual({ record: holtWinters(5), savedAt: SAVED_AT.toISOString() });
    const again = await admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: DEFAULT_SIGNING_SECRET_NAME, namespace: OPERATOR_NS });
    expect(again.metadata?.uid).toBe(secret.metadata?.uid);
    expect(again.metadata?.resourceVersion).toBe(secret.metadata?.resourceVersion);
  });

  it('cannot be read by the operator under another name than the Role allows, and says why', async () => {
    const other = new SecretSigningKey(operator, { namespace: OPERATOR_NS, name: 'somebody-elses-secret' });
    await expect(other.key()).rejects.toThrow(/could not get the model signing Secret prescale-system\/somebody-elses-secret: .*resourceNames/);
  });
});

describe('ConfigMapModelStore', () => {
  it('saves and loads the models of two metrics in one ConfigMap owned by the scaler', async () => {
    const scaler = await createScaler('web');
    const store = storeFor();
    expect(await store.load(scaler, 'rps')).toEqual({ missing: true });

    const rps = await store.save(scaler, 'rps', holtWinters(100));
    const queue = await store.save(scaler, 'queue-depth', holtWinters(7));
    expect(rps).toEqual({ saved: true, bytes: expect.any(Number) });
    expect(queue).toEqual({ saved: true, bytes: expect.any(Number) });

    // A fresh store, as after an operator restart.
    const restarted = storeFor();
    expect(await restarted.load(scaler, 'rps')).toEqual({ record: holtWinters(100), savedAt: SAVED_AT.toISOString() });
    expect(await restarted.load(scaler, 'queue-depth')).toEqual({ record: holtWinters(7), savedAt: SAVED_AT.toISOString() });
    expect(await restarted.load(scaler, 'cpu')).toEqual({ missing: true });

    const configMap = (await readConfigMap(scaler))!;
    expect(configMap.metadata?.name).toBe('web-prescale-models');
    expect(configMap.metadata?.labels).toEqual({ [MANAGED_BY_LABEL]: 'prescale', [SCALER_LABEL]: 'web' });
    expect(configMap.metadata?.ownerReferences).toEqual([
      { apiVersion: `${GROUP}/${VERSION}`, kind: 'PredictiveScaler', name: 'web', uid: scaler.uid, controller: false, blockOwnerDeletion: false },
    ]);
    expect(Object.keys(configMap.binaryData ?? {}).sort()).toEqual(['queue-depth.json.gz', 'rps.json.gz']);
    expect(Buffer.from(configMap.binaryData!['rps.json.gz']!, 'base64').length).toBe((rps as { bytes: number }).bytes);
  });

  it('replaces a metric model on the next save', async () => {
    const scaler = await createScaler('replaced');
    const store = storeFor();
    await store.save(scaler, 'rps', holtWinters(1));
    const later = new Date(SAVED_AT.getTime() + 3_600_000);
    await storeFor(operator, { now: () => later }).save(scaler, 'rps', holtWinters(2));
    expect(await store.load(scaler, 'rps')).toEqual({ record: holtWinters(2), savedAt: later.toISOString() });
  });

  it('keeps every model when several metrics save at the same time from two operator instances', async () => {
    const scaler = await createScaler('busy');
    const stores = [storeFor(), storeFor()];
    const metrics = ['rps', 'latency', 'queue', 'cpu', 'memory', 'errors'];
    const results = await Promise.all(metrics.map((m, i) => stores[i % 2]!.save(scaler, m, holtWinters(i + 1))));
    expect(results.every((r) => 'saved' in r)).toBe(true);
    for (const [i, m] of metrics.entries()) {
      expect(await stores[0]!.load(scaler, m)).toEqual({ record: holtWinters(i + 1), savedAt: SAVED_AT.toISOString() });
    }
  });

  it('skips an entry over the per-entry limit and leaves the ConfigMap alone', async () => {
    const scaler = await createScaler('big-entry');
    const store = storeFor(operator, { maxEntryBytes: 8 * 1024 });
    await store.save(scaler, 'rps', holtWinters(3));
    const before = (await readConfigMap(scaler))!;

    const result = await store.save(scaler, 'latency', incompressible(16 * 1024));
    expect('skipped' in result).toBe(true);
    const reason = (result as { skipped: string }).skipped;
    expect(reason).toMatch(/latency is \d+ bytes compressed, over the 8192-byte limit/);

    const after = (await readConfigMap(scaler))!;
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(await store.load(scaler, 'rps')).toEqual({ record: holtWinters(3), savedAt: SAVED_AT.toISOString() });
    expect(await store.load(scaler, 'latency')).toEqual({ missing: true });
  });

  it('skips an entry that would take the ConfigMap over its limit, keeping the entries it has', async () => {
    const scaler = await createScaler('full');
    const store = storeFor(operator, { maxConfigMapBytes: 24 * 1024 });
    expect(await store.save(scaler, 'a', incompressible(8 * 1024))).toMatchObject({ saved: true });
    expect(await store.save(scaler, 'b', incompressible(8 * 1024))).toMatchObject({ saved: true });
    const before = (await readConfigMap(scaler))!;

    const result = await store.save(scaler, 'c', incompressible(8 * 1024));
    expect((result as { skipped: string }).skipped).toMatch(/would make ConfigMap models\/full-prescale-models \d+ bytes, over its 24576-byte limit/);
    const after = (await readConfigMap(scaler))!;
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(Object.keys(after.binaryData ?? {}).sort()).toEqual(['a.json.gz', 'b.json.gz']);
  });

  it('discards and removes an entry that does not gunzip, keeping the others', async () => {
    const scaler = await createScaler('corrupt');
    const store = storeFor();
    await store.save(scaler, 'rps', holtWinters(1));
    await store.save(scaler, 'queue', holtWinters(2));
    await overwriteEntry(scaler, 'rps.json.gz', Buffer.from('\x00garbage\xff bytes'));

    const loaded = await store.load(scaler, 'rps');
    expect((loaded as { discarded: string }).discarded).toMatch(/rps.*does not gunzip/);
    const after = (await readConfigMap(scaler))!;
    expect(Object.keys(after.binaryData ?? {})).toEqual(['queue.json.gz']);
    expect(after.metadata?.annotations?.[LAST_DISCARD_ANNOTATION]).toContain('does not gunzip');
    expect(await store.load(scaler, 'rps')).toEqual({ missing: true });
    expect(await store.load(scaler, 'queue')).toEqual({ record: holtWinters(2), savedAt: SAVED_AT.toISOString() });
  });

  it('discards and removes an entry written in another store format', async () => {
    const scaler = await createScaler('newer');
    const store = storeFor();
    await store.save(scaler, 'rps', holtWinters(1));
    const payload = holtWinters(1);
    const envelope = {
      storeFormat: 3,
      operatorVersion: '9.0.0',
      savedAt: SAVED_AT.toISOString(),
      sha256: createHash('sha256').update(JSON.stringify(payload)).digest('hex'),
      payload,
    };
    await overwriteEntry(scaler, 'rps.json.gz', gzipSync(JSON.stringify(envelope)));

    const loaded = await store.load(scaler, 'rps');
    expect((loaded as { discarded: string }).discarded).toMatch(/store format 3 written by operator "9\.0\.0"/);
    expect((await readConfigMap(scaler))!.binaryData?.['rps.json.gz']).toBeUndefined();
  });

  it('discards a ConfigMap left by a deleted scaler of the same name, and starts afresh on save', async () => {
    const first = await createScaler('phoenix');
    const store = storeFor();
    await store.save(first, 'rps', holtWinters(1));
    await store.save(first, 'queue', holtWinters(2));
    // Without a controller-manager nothing garbage-collects the ConfigMap, as when GC lags behind.
    await deleteScaler('phoenix');
    const second = await createScaler('phoenix');
    expect(second.uid).not.toBe(first.uid);

    const loaded = await store.load(second, 'rps');
    expect((loaded as { discarded: string }).discarded).toContain(`owner uid ${first.uid}`);
    expect(await readConfigMap(second)).toBeUndefined();

    // A writer still holding the deleted scaler recreates the ConfigMap under the old uid.
    await store.save(first, 'rps', holtWinters(1));
    expect(await store.save(second, 'queue', holtWinters(3))).toMatchObject({ saved: true });
    const configMap = (await readConfigMap(second))!;
    expect(configMap.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([second.uid]);
    expect(Object.keys(configMap.binaryData ?? {})).toEqual(['queue.json.gz']);
  });

  it('removes an entry on discard() and records why', async () => {
    const scaler = await createScaler('refused');
    const store = storeFor();
    await store.save(scaler, 'rps', holtWinters(1));
    await store.save(scaler, 'queue', holtWinters(2));
    await store.discard(scaler, 'rps', 'HoltWinters state format 1 is not importable');
    const configMap = (await readConfigMap(scaler))!;
    expect(Object.keys(configMap.binaryData ?? {})).toEqual(['queue.json.gz']);
    expect(configMap.metadata?.annotations?.[LAST_DISCARD_ANNOTATION]).toBe(
      `${SAVED_AT.toISOString()} model for metric rps: HoltWinters state format 1 is not importable`,
    );
    await store.discard(scaler, 'rps', 'again'); // nothing left to remove
    expect(await store.load(scaler, 'rps')).toEqual({ missing: true });
  });

  it('leaves a ConfigMap of the same name that prescale did not create alone', async () => {
    const scaler = await createScaler('squatted');
    await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'squatted-prescale-models' }, data: { mine: 'yes' } },
    });
    const store = storeFor();
    expect((await store.save(scaler, 'rps', holtWinters(1))) as { skipped: string }).toEqual({ skipped: expect.stringContaining('not managed by prescale') });
    expect((await store.load(scaler, 'rps')) as { discarded: string }).toEqual({ discarded: expect.stringContaining('not managed by prescale') });
    const configMap = (await readConfigMap(scaler))!;
    expect(configMap.data).toEqual({ mine: 'yes' });
    expect(configMap.binaryData).toBeUndefined();
  });

  it('stores models of a scaler with the longest name Kubernetes allows', async () => {
    const name = `${'a'.repeat(200)}.${'b'.repeat(52)}`;
    const scaler = await createScaler(name);
    const store = storeFor();
    expect(await store.save(scaler, 'rps', holtWinters(4))).toMatchObject({ saved: true });
    expect(await store.load(scaler, 'rps')).toEqual({ record: holtWinters(4), savedAt: SAVED_AT.toISOString() });
    const configMap = (await readConfigMap(scaler))!;
    expect(configMap.metadata!.name!.length).toBeLessThanOrEqual(253);
    expect(configMap.metadata?.ownerReferences?.[0]?.name).toBe(name);
  });

  it('rejects an invalid metric name before calling the API server', async () => {
    const scaler = { namespace: NS, name: 'web', uid: 'x' };
    await expect(storeFor().save(scaler, '../etc', holtWinters(1))).rejects.toThrow(/metric name "..\/etc" is not valid/);
  });

  it('says which RBAC the ServiceAccount lacks when the API server refuses', async () => {
    const scaler = await createScaler('forbidden');
    const nobody = cp.tokenKubeConfig(await mintServiceAccountToken(admin, NS, 'nobody'));
    const error = await storeFor(nobody)
      .load(scaler, 'rps')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(apiStatusCode(error)).toBe(403);
    expect((error as Error).message).toMatch(/forbidden to get ConfigMap models\/forbidden-prescale-models: .*configmaps.*deploy\/base\/clusterrole\.yaml/);
  });
});

/** A ServiceAccount in the scalers' namespace that may edit ConfigMaps there and nothing else. */
async function configMapEditor(): Promise<KubeConfig> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tenant', namespace: NS } }]);
  await rbac.createNamespacedRole({
    namespace: NS,
    body: { metadata: { name: 'configmap-editor' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'update', 'patch', 'create'] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: NS,
    body: {
      metadata: { name: 'configmap-editor' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-editor' },
      subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: NS }],
    },
  });
  return cp.tokenKubeConfig(await mintServiceAccountToken(admin, NS, 'tenant'));
}

describe('entries forged by a tenant who may edit ConfigMaps', () => {
  const cfg = toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 10,
    metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' }],
    forecast: { step: '5m', horizon: '1h', retrainEvery: '6h' },
  });
  const history = dailySine(3, 30, 2);
  const now = Date.UTC(2026, 0, 9);
  let tenant: KubeConfig;

  beforeAll(async () => {
    tenant = await configMapEditor();
  });

  function persistenceOf(store: ConfigMapModelStore, scaler: ScalerRef): ModelPersistence & { discarded: string[] } {
    const discarded: string[] = [];
    return {
      discarded,
      load: async () => {
        const result = await store.load(scaler, 'rps');
        if ('discarded' in result) discarded.push(result.discarded);
        return 'record' in result ? result.record : undefined;
      },
      save: async (record) => {
        await store.save(scaler, 'rps', record);
      },
      discard: (reason) => store.discard(scaler, 'rps', reason),
    };
  }

  /** The operator trains and saves a model; returns its saved record as the tenant would read it. */
  async function trainedScaler(name: string) {
    const scaler = await createScaler(name);
    const store = storeFor();
    const original = new ModelManager({ now: () => now });
    expect(original.forecast('k', history, cfg, 12, [0.5, 0.9], persistenceOf(store, scaler)).trained).toBe(true);
    await vi.waitFor(async () => expect(await store.load(scaler, 'rps')).toHaveProperty('record'));
    const record = ((await store.load(scaler, 'rps')) as { record: ModelRecord }).record;
    return { scaler, store, record };
  }

  /** Writes an entry into the model ConfigMap with the tenant's own token. */
  async function tenantWrites(tenant: KubeConfig, scaler: ScalerRef, entry: Buffer): Promise<void> {
    const core = tenant.makeApiClient(CoreV1Api);
    const current = await core.readNamespacedConfigMap({ name: modelConfigMapName(scaler.name), namespace: NS });
    await core.replaceNamespacedConfigMap({ name: current.metadata!.name!, namespace: NS, body: { ...current, binaryData: { ...current.binaryData, 'rps.json.gz': entry.toString('base64') } } });
  }

  /** Pins the target: a level a thousand times the history's, as a tenant who wants maxReplicas would write. */
  function pinned(record: ModelRecord): ModelRecord {
    return { ...record, state: { ...(record.state as object), level: 1e6 }, trainedAt: now + 10 * 365 * 86_400_000 };
  }

  it.each<{ what: string; envelope: (payload: ModelRecord) => Record<string, unknown> }>([
    {
      what: 'built as the old code built it (store format 1, unkeyed sha256)',
      envelope: (payload) => ({ storeFormat: 1, operatorVersion: '0.1.0', savedAt: SAVED_AT.toISOString(), sha256: createHash('sha256').update(JSON.stringify(payload)).digest('hex'), payload }),
    },
    {
      what: 'in the current format with a recomputed sha256 as its MAC',
      envelope: (payload) => ({ storeFormat: 2, operatorVersion: '0.1.0-test', savedAt: SAVED_AT.toISOString(), hmacSha256: createHash('sha256').update(JSON.stringify(payload)).digest('hex'), payload }),
    },
  ])('an entry $what is discarded, and the operator retrains', async ({ envelope }) => {
    const { scaler, store, record } = await trainedScaler(`forged-${randomBytes(3).toString('hex')}`);
    // The tenant may not read the key it would need.
    await expect(tenant.makeApiClient(CoreV1Api).readNamespacedSecret({ name: DEFAULT_SIGNING_SECRET_NAME, namespace: OPERATOR_NS })).rejects.toSatisfy((err) => apiStatusCode(err) === 403);
    await tenantWrites(tenant, scaler, gzipSync(JSON.stringify(envelope(pinned(record)))));

    const restarted = new ModelManager({ now: () => now + 60_000 });
    const persistence = persistenceOf(store, scaler);
    await expect(restarted.restore('k', cfg, persistence)).resolves.toEqual({ missing: true });
    expect(persistence.discarded).toEqual([expect.stringMatching(/store format 1|MAC does not verify/)]);
    const configMap = (await readConfigMap(scaler))!;
    expect(configMap.binaryData?.['rps.json.gz']).toBeUndefined();
    expect(configMap.metadata?.annotations?.[LAST_DISCARD_ANNOTATION]).toMatch(/store format 1|MAC does not verify/);
    expect(configMap.metadata?.annotations?.[LAST_DISCARD_ANNOTATION]).not.toMatch(/[0-9a-f]{64}/);

    const out = restarted.forecast('k', history, cfg, 12, [0.5, 0.9], persistence);
    expect(out.trained).toBe(true);
    expect(Math.max(...out.forecast!.mean)).toBeLessThan(2 * Math.max(...history.values));
  });
});

