// End to end with the real KEDA (operator and metrics adapter built from Go modules) and the real HPA
// controller: examples/keda/scaledobject.yaml, prescale's external scaler beside KEDA's Prometheus
// trigger, has the model server's pods Ready for the bundled trace's ramp as it arrives; the same
// ScaledObject with only the Prometheus trigger, on a twin Deployment with the same pods and the
// same demand, does not. prescale (mode: Publish) never writes either Deployment.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/demo/env/prometheus.js';
import { condition, eventually } from '../helpers/eventually.js';
import { startKeda, type Keda } from '../helpers/keda.js';
import { applyManifests } from '../helpers/manifests.js';
import { rampOutcomes, startPublishWorld, type PublishWorld } from '../helpers/publish-world.js';

const SPEED = 8;
const RAMP_IN_MS = 4 * 60_000;
const AFTER_RAMP_MS = 4 * 60_000;
const MODEL_SERVER_MIN_STARTUP_MS = 120_000;
const REACTIVE = 'ranker-reactive';

let world: PublishWorld;
let keda: Keda | undefined;

interface Trigger {
  type: string;
  metadata: Record<string, string>;
}
interface ScaledObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { scaleTargetRef: { name: string }; pollingInterval?: number; triggers: Trigger[] } & Record<string, unknown>;
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** examples/keda/scaledobject.yaml, pointed at this world's prescale and Prometheus. */
function exampleScaledObject(scalerAddress: string, prometheusUrl: string): ScaledObject {
  const so = parse(readFileSync('examples/keda/scaledobject.yaml', 'utf8')) as ScaledObject;
  for (const t of so.spec.triggers) {
    if (t.type === 'external') t.metadata.scalerAddress = scalerAddress;
    if (t.type === 'prometheus') t.metadata.serverAddress = prometheusUrl;
  }
  so.spec.pollingInterval = 5;
  return so;
}

beforeAll(async () => {
  const port = await freePort();
  world = await startPublishWorld({
    speed: SPEED,
    rampInMs: RAMP_IN_MS,
    twins: [REACTIVE],
    operatorArgs: ['--external-scaler-bind-address', `127.0.0.1:${port}`, '--training-workers', '1'],
    beforeOperator: async (env) => {
      keda = await startKeda(env.cluster);
    },
  });
  const withPrescale = exampleScaledObject(`127.0.0.1:${port}`, world.env.prometheus.url);
  const reactive: ScaledObject = structuredClone(withPrescale);
  reactive.metadata.name = REACTIVE;
  reactive.spec.scaleTargetRef.name = REACTIVE;
  reactive.spec.triggers = reactive.spec.triggers.filter((t) => t.type === 'prometheus');
  // Both trigger sets read the demand the scaler plans on, at its targetPerReplica.
  const s = await world.scaler();
  expect(withPrescale.spec.triggers.find((t) => t.type === 'prometheus')!.metadata.threshold).toBe(s.spec.metrics[0]!.targetPerReplica);
  await applyManifests(world.kc, [withPrescale, reactive] as never);
}, 420_000);

afterAll(async () => {
  await keda?.stop();
  await world?.close();
});

async function scaledObject(name: string): Promise<ScaledObject> {
  return (await world.kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects', namespace: world.workload.namespace, name })) as ScaledObject;
}

describe('prescale as a KEDA external scaler', () => {
  it('makes the ScaledObject Ready, and prescale takes its HPA as the consumer', async () => {
    const so = await eventually('ScaledObject Ready', () => scaledObject('ranker'), (x) => x.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 120_000);
    expect(so.status!.conditions!.find((c) => c.type === 'Ready')!.message).toMatch(/ScaledObject is defined correctly/);
    const s = await eventually('Published', () => world.scaler(), (x) => condition(x, 'AbleToScale')?.reason === 'Published', 120_000);
    expect(condition(s, 'AbleToScale')!.message).toMatch(/HorizontalPodAutoscaler keda-hpa-ranker \(ScaledObject ranker\)/);
  }, 300_000);

  it("has the model server's pods Ready for the ramp as it arrives, which KEDA's Prometheus trigger alone does not", async () => {
    const name = world.workload.deployment;
    const { outcomes, told } = await rampOutcomes(world, AFTER_RAMP_MS, [name, REACTIVE]);
    const o = outcomes[name]!;
    expect(o.neededAtEnd, told()).toBeGreaterThanOrEqual(o.neededAtRamp + 2);
    expect(o.short, told()).toEqual([]);
    expect(o.askedAt, told()).toBeLessThan(o.firstNeedAt - MODEL_SERVER_MIN_STARTUP_MS);
    // The same pods, the same demand, KEDA's own trigger only: it reacts, and the start-up makes it late.
    expect(outcomes[REACTIVE]!.short.length, told()).toBeGreaterThan(0);
    console.info(`e2e keda: moments of the ramp short of Ready capacity: with prescale ${o.short.length}, Prometheus trigger only ${outcomes[REACTIVE]!.short.length}\n${told()}`);
  }, 20 * 60_000);
});
