// The status writer against a real kube-apiserver: optimistic writes retried on 409 Conflict, and
// a writer that keeps bumping the object (anyone who may label a scaler can) cannot keep a status
// from being written: once the optimistic attempts are spent, status is replaced unconditionally.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { KubeStatusWriter } from '../../src/kube/status-writer.js';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyManifests, createMinimalScaler } from '../helpers/manifests.js';

const NS = 'writer';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let cp: ControlPlane;
let kc: KubeConfig;
let api: CustomObjectsApi;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig;
  api = kc.makeApiClient(CustomObjectsApi);
  await applyManifests(kc, 'crds');
  await applyManifests(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
});

afterAll(async () => {
  await cp?.close();
});

const ref = (name: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name });
const read = async (name: string) => (await api.getNamespacedCustomObject(ref(name))) as PredictiveScaler;

/** Patches the scaler's labels back to back, from `lanes` concurrent loops, until stopped. */
function storm(name: string, lanes: number): { stop(): Promise<number> } {
  let running = true;
  let writes = 0;
  const loops = Array.from({ length: lanes }, async (_, lane) => {
    while (running) {
      await api.patchNamespacedCustomObject({ ...ref(name), body: { metadata: { labels: { [`lane${lane}`]: String(writes++) } } } }, mergePatch);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return writes;
    },
  };
}

describe('KubeStatusWriter', () => {
  it('recomputes against the fresh copy after a conflict, and keeps what the fresh copy holds', async () => {
    const stale = await createMinimalScaler(kc, NS, 'stale');
    await api.patchNamespacedCustomObject({ ...ref('stale'), body: { spec: { maxReplicas: 11 } } }, mergePatch);
    const seen: number[] = [];
    const wrote = await new KubeStatusWriter(kc).update(stale, (current) => {
      seen.push(current.metadata.generation!);
      return { observedGeneration: current.metadata.generation, desiredReplicas: current.spec.maxReplicas };
    });
    expect(wrote).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect((await read('stale')).status).toEqual({ observedGeneration: 2, desiredReplicas: 11 });
  });

  it('replaces status whole once its optimistic attempts are spent, dropping fields the new status does not hold', async () => {
    const stale = await createMinimalScaler(kc, NS, 'spent');
    await api.patchNamespacedCustomObjectStatus({ ...ref('spent'), body: { status: { currentReplicas: 999, desiredReplicas: 7 } } }, mergePatch);
    const wrote = await new KubeStatusWriter(kc, 1).update(stale, (current) => ({ observedGeneration: current.metadata.generation, desiredReplicas: 3 }));
    expect(wrote).toBe(true);
    expect((await read('spent')).status).toEqual({ observedGeneration: 1, desiredReplicas: 3 });
  });

  it('writes the status while other writers bump the object back to back', async () => {
    const scaler = await createMinimalScaler(kc, NS, 'stormed');
    const writers = storm('stormed', 4);
    try {
      for (let round = 1; round <= 5; round++) {
        const wrote = await new KubeStatusWriter(kc).update(scaler, (current) => ({ observedGeneration: current.metadata.generation, desiredReplicas: round }));
        expect(wrote).toBe(true);
        expect((await read('stormed')).status?.desiredReplicas).toBe(round);
      }
    } finally {
      expect(await writers.stop()).toBeGreaterThan(20);
    }
  });

  it('reports no write for a scaler deleted meanwhile, and writes nothing when nothing changed', async () => {
    const gone = await createMinimalScaler(kc, NS, 'gone');
    await api.deleteNamespacedCustomObject(ref('gone'));
    expect(await new KubeStatusWriter(kc, 1).update(gone, () => ({ desiredReplicas: 2 }))).toBe(false);
    const same = await createMinimalScaler(kc, NS, 'same');
    expect(await new KubeStatusWriter(kc).update(same, () => undefined)).toBe(false);
    expect((await read('same')).status).toBeUndefined();
  });
});
