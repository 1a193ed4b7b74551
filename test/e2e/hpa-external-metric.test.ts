// End to end with the real HPA controller: prescale in mode: Publish serves its decision as the
// external metric prescale_desired_replicas through the API server's aggregation layer (front-proxy
// certificates, an APIService routed to the operator process), and a plain HPA in
// kube-controller-manager, the only writer of the model server's replicas, has its pods Ready for
// the bundled trace's ramp as it arrives.
import { AutoscalingV2Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposeLocalPort, waitForApiServiceAvailable } from '../../src/demo/env/aggregation.js';
import { freePort } from '../../src/demo/env/prometheus.js';
import { condition, eventually } from '../helpers/eventually.js';
import { renderKustomization } from '../helpers/kustomize.js';
import { applyManifests } from '../helpers/manifests.js';
import { rampOutcomes, startPublishWorld, type PublishWorld } from '../helpers/publish-world.js';

const SPEED = 8;
const RAMP_IN_MS = 4 * 60_000;
const AFTER_RAMP_MS = 4 * 60_000;
const MODEL_SERVER_MIN_STARTUP_MS = 120_000;

let world: PublishWorld;

function hpaFor(namespace: string, target: string, scaler: string, maxReplicas: number, minReplicas: number) {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: target, namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas,
      maxReplicas,
      // As examples/hpa-external-metric/hpa.yaml, without its CPU metric (this cluster has no metrics-server).
      metrics: [{ type: 'External', external: { metric: { name: 'prescale_desired_replicas', selector: { matchLabels: { scaler } } }, target: { type: 'AverageValue', averageValue: '1' } } }],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, tolerance: '0' } },
    },
  };
}

beforeAll(async () => {
  const port = await freePort();
  world = await startPublishWorld({
    speed: SPEED,
    rampInMs: RAMP_IN_MS,
    operatorArgs: ['--external-metrics-bind-address', `0.0.0.0:${port}`, '--training-workers', '1'],
    beforeOperator: async (env) => {
      const kc = env.cluster.controlPlane.kubeConfig;
      // deploy/components/publishing's objects, but its Service (which selects the operator's pods)
      // becomes one whose EndpointSlice points at the operator process on this machine.
      const objects = await renderKustomization('deploy', ['deploy/components/publishing']);
      await applyManifests(kc, objects.filter((o: KubernetesObject) => !(o.kind === 'Service' && o.metadata?.name === 'prescale-publishing')));
      await exposeLocalPort(kc, { namespace: 'prescale-system', name: 'prescale-publishing', port });
    },
  });
  await waitForApiServiceAvailable(world.kc, 'v1beta1.external.metrics.k8s.io', 90_000);
  const s = await world.scaler();
  await applyManifests(world.kc, [hpaFor(world.workload.namespace, world.workload.deployment, world.workload.scaler, s.spec.maxReplicas, s.spec.minReplicas ?? 1)]);
}, 420_000);

afterAll(async () => {
  await world?.close();
});

describe('a plain HPA on prescale_desired_replicas (external metrics API through the aggregation layer)', () => {
  it('is taken by prescale as its consumer, and the HPA controller reads the metric', async () => {
    const { namespace, deployment } = world.workload;
    const s = await eventually('Published', () => world.scaler(), (x) => condition(x, 'AbleToScale')?.reason === 'Published', 120_000);
    expect(condition(s, 'AbleToScale')!.message).toMatch(new RegExp(`published to HorizontalPodAutoscaler ${deployment}`));
    const hpa = await eventually(
      'the HPA reading the metric',
      () => world.kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: deployment, namespace }),
      (h) => h.status?.conditions?.find((c) => c.type === 'ScalingActive')?.status === 'True' && (h.status?.currentMetrics?.length ?? 0) > 0,
      120_000,
    );
    expect(hpa.status!.currentMetrics![0]!.external!.metric.name).toBe('prescale_desired_replicas');
  }, 300_000);

  it("has the model server's pods Ready for the ramp as it arrives, with the HPA as the only writer", async () => {
    const name = world.workload.deployment;
    const { outcomes, told } = await rampOutcomes(world, AFTER_RAMP_MS, [name]);
    const o = outcomes[name]!;
    // The ramp is real work, Ready capacity carries it at every moment, because the pods were asked
    // for ahead of the need by more than their start-up.
    expect(o.neededAtEnd, told()).toBeGreaterThanOrEqual(o.neededAtRamp + 2);
    expect(o.short, told()).toEqual([]);
    expect(o.askedAt, told()).toBeLessThan(o.firstNeedAt - MODEL_SERVER_MIN_STARTUP_MS);
    console.info(`e2e hpa-external-metric: asked for ${o.neededAtEnd} replicas ${Math.round((o.firstNeedAt - o.askedAt!) / 1000)} s before the demand needed them\n${told()}`);
    const s = await world.scaler();
    // prescale itself never wrote the replicas: every scale event is the HPA's.
    expect(s.status?.lastScaleTime, told()).toBeUndefined();
  }, 20 * 60_000);
});
