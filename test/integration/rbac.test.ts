// deploy/ against a real API server with RBAC on: the operator's service account can do exactly what
// the operator needs (SPEC sections 2 and 4) and is refused what it must never do.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  AuthorizationV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  V1MicroTime,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyKustomization, applyManifests, describeApiError, readKustomization } from '../helpers/manifests.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPERATOR_NAMESPACE = 'prescale-system';
const APP_NAMESPACE = 'shop';

let cp: ControlPlane;
let operator: KubeConfig;

const webDeployment: V1Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: APP_NAMESPACE },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
  },
};

beforeAll(async () => {
  cp = await startControlPlane();
  await applyManifests(cp.kubeConfig, join(ROOT, 'crds'));
  await applyKustomization(cp.kubeConfig, join(ROOT, 'deploy'));
  await applyManifests(cp.kubeConfig, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP_NAMESPACE } },
    webDeployment,
    {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'PredictiveScaler',
      metadata: { name: 'web', namespace: APP_NAMESPACE },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 10,
        metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' }],
      },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prom-auth', namespace: APP_NAMESPACE }, stringData: { token: 't0ken' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'user-config', namespace: APP_NAMESPACE }, data: { a: 'b' } },
  ]);
  operator = cp.tokenKubeConfig(await mintServiceAccountToken(cp.kubeConfig, OPERATOR_NAMESPACE, 'prescale'));
});

afterAll(async () => {
  await cp?.close();
});

/** Resolves to the HTTP status of a failed call, or 200 when it succeeded. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

async function expectAllowed(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    throw new Error(`expected the operator to be allowed, got ${describeApiError(err)}`);
  }
}

async function canI(kc: KubeConfig, attributes: { verb: string; group: string; resource: string; subresource?: string; namespace?: string }): Promise<boolean> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: attributes } },
  });
  return review.status?.allowed === true;
}

describe('deploy/ RBAC for the operator service account', () => {
  it('applies every resource of the kustomize base', () => {
    const kinds = readKustomization(join(ROOT, 'deploy')).map((o) => o.kind).sort();
    expect(kinds).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  });

  it('authenticates as the prescale service account', async () => {
    const review = await operator.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'get', group: GROUP, resource: PLURAL } } },
    });
    expect(review.status?.allowed).toBe(true);
  });

  it('lists PredictiveScalers in every namespace and updates their status', async () => {
    const custom = operator.makeApiClient(CustomObjectsApi);
    const list = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
    await expectAllowed(() =>
      custom.patchNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace: APP_NAMESPACE,
        plural: PLURAL,
        name: 'web',
        body: [{ op: 'add', path: '/status', value: { currentReplicas: 2, desiredReplicas: 3 } }],
      }),
    );
    expect(await canI(operator, { verb: 'watch', group: GROUP, resource: PLURAL })).toBe(true);
  });

  it('reads and sets a Deployment replica count through the scale subresource', async () => {
    const apps = operator.makeApiClient(AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: APP_NAMESPACE });
    expect(scale.spec?.replicas).toBe(2);
    await apps.patchNamespacedDeploymentScale({
      name: 'web',
      namespace: APP_NAMESPACE,
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    const after = await cp.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: APP_NAMESPACE });
    expect(after.spec?.replicas).toBe(5);
    const current = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: APP_NAMESPACE });
    await expectAllowed(() =>
      apps.replaceNamespacedDeploymentScale({
        name: 'web',
        namespace: APP_NAMESPACE,
        body: { ...current, spec: { replicas: 4 } },
      }),
    );
  });

  it('may scale StatefulSets and custom resources, through /scale only', async () => {
    expect(await canI(operator, { verb: 'patch', group: 'apps', resource: 'statefulsets', subresource: 'scale', namespace: APP_NAMESPACE })).toBe(true);
    expect(await canI(operator, { verb: 'update', group: 'argoproj.io', resource: 'rollouts', subresource: 'scale', namespace: APP_NAMESPACE })).toBe(true);
    expect(await canI(operator, { verb: 'get', group: 'argoproj.io', resource: 'rollouts', namespace: APP_NAMESPACE })).toBe(false);
    expect(await canI(operator, { verb: 'update', group: 'argoproj.io', resource: 'rollouts', namespace: APP_NAMESPACE })).toBe(false);
    expect(await canI(operator, { verb: 'patch', group: 'apps', resource: 'statefulsets', namespace: APP_NAMESPACE })).toBe(false);
  });

  it('watches HorizontalPodAutoscalers and pods, and reads the Prometheus auth Secret', async () => {
    await expectAllowed(() => operator.makeApiClient(AutoscalingV2Api).listHorizontalPodAutoscalerForAllNamespaces());
    await expectAllowed(() => operator.makeApiClient(CoreV1Api).listPodForAllNamespaces());
    const secret = await operator.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'prom-auth', namespace: APP_NAMESPACE });
    expect(Buffer.from(secret.data!.token!, 'base64').toString()).toBe('t0ken');
    expect(await canI(operator, { verb: 'watch', group: 'autoscaling', resource: 'horizontalpodautoscalers' })).toBe(true);
    expect(await canI(operator, { verb: 'watch', group: '', resource: 'pods' })).toBe(true);
  });

  it('records events.k8s.io Events', async () => {
    await expectAllowed(() =>
      operator.makeApiClient(EventsV1Api).createNamespacedEvent({
        namespace: APP_NAMESPACE,
        body: {
          metadata: { generateName: 'web-' },
          eventTime: new V1MicroTime(),
          type: 'Normal',
          reason: 'ScaledUp',
          action: 'Scale',
          note: 'scaled web from 2 to 5',
          reportingController: 'prescale.dev/operator',
          reportingInstance: 'prescale-0',
          regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: 'PredictiveScaler', name: 'web', namespace: APP_NAMESPACE },
        },
      }),
    );
  });

  it('holds a leader-election Lease in prescale-system', async () => {
    const leases = operator.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: 'prescale-leader' }, spec: { holderIdentity: 'prescale-0', leaseDurationSeconds: 15 } },
    });
    const lease = await leases.readNamespacedLease({ name: 'prescale-leader', namespace: OPERATOR_NAMESPACE });
    await expectAllowed(() =>
      leases.replaceNamespacedLease({
        name: 'prescale-leader',
        namespace: OPERATOR_NAMESPACE,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'prescale-1' } },
      }),
    );
  });

  it('keeps trained models in a ConfigMap: creates, reads, updates and deletes it by name', async () => {
    const core = operator.makeApiClient(CoreV1Api);
    const name = 'web-prescale-models';
    await core.createNamespacedConfigMap({ namespace: APP_NAMESPACE, body: { metadata: { name }, binaryData: { 'rps.json.gz': 'AAEC' } } });
    const created = await core.readNamespacedConfigMap({ name, namespace: APP_NAMESPACE });
    expect(created.binaryData?.['rps.json.gz']).toBe('AAEC');
    await expectAllowed(() => core.replaceNamespacedConfigMap({ name, namespace: APP_NAMESPACE, body: { ...created, binaryData: {} } }));
    await expectAllowed(() => core.deleteNamespacedConfigMap({ name, namespace: APP_NAMESPACE }));
  });

  it.each([
    ['read a Deployment', (kc: KubeConfig) => kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: APP_NAMESPACE })],
    [
      "patch a Deployment's spec",
      (kc: KubeConfig) =>
        kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({
          name: 'web',
          namespace: APP_NAMESPACE,
          body: [{ op: 'replace', path: '/spec/replicas', value: 9 }],
        }),
    ],
    ['create a Deployment', (kc: KubeConfig) => kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: APP_NAMESPACE, body: { ...webDeployment, metadata: { name: 'other' } } })],
    ['delete a pod', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: 'web-0', namespace: APP_NAMESPACE })],
    [
      "write a PredictiveScaler's spec",
      (kc: KubeConfig) =>
        kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: APP_NAMESPACE,
          plural: PLURAL,
          name: 'web',
          body: [{ op: 'replace', path: '/spec/maxReplicas', value: 99 }],
        }),
    ],
    [
      'delete a PredictiveScaler',
      (kc: KubeConfig) =>
        kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: APP_NAMESPACE, plural: PLURAL, name: 'web' }),
    ],
    ['list Secrets', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: APP_NAMESPACE })],
    [
      'take a Lease outside prescale-system',
      (kc: KubeConfig) =>
        kc.makeApiClient(CoordinationV1Api).createNamespacedLease({ namespace: APP_NAMESPACE, body: { metadata: { name: 'steal' }, spec: {} } }),
    ],
    ['delete its Lease', (kc: KubeConfig) => kc.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ name: 'prescale-leader', namespace: OPERATOR_NAMESPACE })],
    ['list ConfigMaps', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: APP_NAMESPACE })],
    [
      'patch a ConfigMap',
      (kc: KubeConfig) =>
        kc.makeApiClient(CoreV1Api).patchNamespacedConfigMap({ name: 'user-config', namespace: APP_NAMESPACE, body: [{ op: 'add', path: '/data/x', value: 'y' }] }),
    ],
  ])('is refused to %s', async (_label, call) => {
    expect(await statusOf(() => call(operator))).toBe(403);
  });

  it.each([
    ['update HorizontalPodAutoscalers', { verb: 'update', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: APP_NAMESPACE }],
    ['delete events', { verb: 'delete', group: 'events.k8s.io', resource: 'events', namespace: APP_NAMESPACE }],
    ['write Secrets', { verb: 'update', group: '', resource: 'secrets', namespace: APP_NAMESPACE }],
    ['watch ConfigMaps', { verb: 'watch', group: '', resource: 'configmaps', namespace: APP_NAMESPACE }],
    ['list ConfigMaps in every namespace', { verb: 'list', group: '', resource: 'configmaps' }],
    ['deletecollection ConfigMaps', { verb: 'deletecollection', group: '', resource: 'configmaps', namespace: APP_NAMESPACE }],
    ['exec into pods', { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: APP_NAMESPACE }],
    ['change its own RBAC', { verb: 'update', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }],
  ])('may not %s', async (_label, attributes) => {
    expect(await canI(operator, attributes)).toBe(false);
  });
});

describe('deploy/ Deployment', () => {
  it("has a pod template the namespace's restricted Pod Security level admits", async () => {
    const deployment = readKustomization(join(ROOT, 'deploy')).find((o) => o.kind === 'Deployment') as V1Deployment;
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'prescale-podsecurity-check', namespace: OPERATOR_NAMESPACE },
      spec: deployment.spec!.template.spec,
    };
    // Pod Security admission enforces on pods, not on Deployments; a dry-run pod runs the check.
    await expectAllowed(() => cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: OPERATOR_NAMESPACE, body: pod, dryRun: 'All' }));
    const privileged: V1Pod = structuredClone(pod);
    privileged.spec!.containers[0]!.securityContext = { privileged: true };
    expect(await statusOf(() => cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: OPERATOR_NAMESPACE, body: privileged, dryRun: 'All' }))).toBe(403);
  });
});
