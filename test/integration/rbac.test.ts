// deploy/ RBAC against a real API server: every right the operator's roles grant is needed, and none
// it needs is missing. For each verb of each rule of the ClusterRoles and Roles bound to the
// operator's ServiceAccount, a fresh ServiceAccount gets every right but that one, and the operator
// call the right is for (through the operator's own client classes, under that token) is refused;
// under the operator's own token the same call works. A right no call is known for fails the suite:
// remove the right or add its call to OPERATIONS. Also: the base install reads no Secret of a tenant,
// the prometheus-auth-secrets component grants exactly `get secrets`, and a list of things the
// operator must never be able to do.
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { scalerInformer } from '../../src/controller/controller.js';
import { kubeSecretReader } from '../../src/controller/prometheus-provider.js';
import { KubeEventRecorder } from '../../src/kube/events.js';
import { HpaInformerIndex } from '../../src/kube/hpa-index.js';
import type { ResilientInformer } from '../../src/kube/informer.js';
import { LeaderElector } from '../../src/kube/leader-election.js';
import { MANAGED_BY, MANAGED_BY_LABEL, ConfigMapModelStore } from '../../src/kube/model-store.js';
import { modelConfigMapName } from '../../src/kube/model-envelope.js';
import { DEFAULT_SIGNING_SECRET_NAME, SecretSigningKey } from '../../src/kube/model-signing-key.js';
import { PodStartupInformer } from '../../src/kube/pod-startups.js';
import { KubeScaleClient } from '../../src/kube/scale.js';
import { KubeStatusWriter } from '../../src/kube/status-writer.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { kubeAccessReviews } from '../../src/observability/metrics-auth.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { eventually } from '../helpers/eventually.js';
import { renderKustomization } from '../helpers/kustomize.js';
import { applyManifests, createMinimalScaler, describeApiError } from '../helpers/manifests.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPERATOR_NAMESPACE = 'prescale-system';
const OPERATOR_SA = 'prescale';
const APP_NAMESPACE = 'shop';
/** Components that grant the operator more rights (each with the flag that uses them); all are tested. */
const RIGHTS_COMPONENTS = ['deploy/components/prometheus-auth-secrets', 'deploy/components/secure-metrics'];

let cp: ControlPlane;
let admin: KubeConfig;
let operator: KubeConfig;
let base: KubernetesObject[];
let full: KubernetesObject[];

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
  admin = cp.kubeConfig;
  base = await renderKustomization('deploy');
  full = await renderKustomization('deploy', RIGHTS_COMPONENTS.filter((c) => existsSync(join(ROOT, c))));
  await applyManifests(admin, 'crds');
  await applyManifests(admin, base);
  await applyManifests(admin, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP_NAMESPACE } },
    webDeployment,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prom-auth', namespace: APP_NAMESPACE }, stringData: { token: 't0ken' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'user-config', namespace: APP_NAMESPACE }, data: { a: 'b' } },
  ]);
  operator = cp.tokenKubeConfig(await mintServiceAccountToken(admin, OPERATOR_NAMESPACE, OPERATOR_SA));
});

afterAll(async () => {
  await cp?.close();
});

// ---------------------------------------------------------------------------------------------------
// Rights, as atoms: one verb on one resource of one rule of one role bound to a ServiceAccount.

interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface BoundRole {
  kind: 'ClusterRole' | 'Role';
  name: string;
  namespace?: string;
  rules: RbacRule[];
}

interface Right {
  role: BoundRole;
  apiGroups: string[];
  resource: string;
  verb: string;
  resourceNames?: string[];
  /** "<role kind> <groups>/<resource> <verb>", the key of OPERATIONS. */
  key: string;
}

type Binding = KubernetesObject & { roleRef: { kind: string; name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> };
type Role = KubernetesObject & { rules?: RbacRule[] };

/** The ClusterRoles and Roles that `objects` bind the operator's ServiceAccount to. */
function operatorRoles(objects: KubernetesObject[]): BoundRole[] {
  const bindings = objects.filter((o): o is Binding => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
  const toOperator = bindings.filter((b) => (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === OPERATOR_SA && s.namespace === OPERATOR_NAMESPACE));
  return toOperator.map((b) => {
    const role = objects.find((o): o is Role => o.kind === b.roleRef.kind && o.metadata?.name === b.roleRef.name);
    if (!role) throw new Error(`${b.kind} ${b.metadata?.name} binds ${b.roleRef.kind} ${b.roleRef.name}, which the install does not contain`);
    const namespace = b.kind === 'RoleBinding' ? b.metadata?.namespace : undefined;
    return { kind: b.kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name: role.metadata!.name!, namespace, rules: role.rules ?? [] };
  });
}

function rightsOf(roles: BoundRole[]): Right[] {
  return roles.flatMap((role) =>
    role.rules.flatMap((rule) =>
      (rule.resources ?? []).flatMap((resource) =>
        rule.verbs.map((verb) => ({
          role,
          apiGroups: rule.apiGroups ?? [''],
          resource,
          verb,
          ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
          key: `${role.kind} ${(rule.apiGroups ?? ['']).join(',')}/${resource} ${verb}`,
        })),
      ),
    ),
  );
}

/**
 * A fresh ServiceAccount holding every right of `rights` except `without`, in copies of the roles
 * (one rule per right); resolves with its KubeConfig once the API server's authorizer sees them.
 */
async function serviceAccountWithout(id: string, rights: Right[], without: Right): Promise<KubeConfig> {
  const kept = rights.filter((r) => r !== without);
  const roles = [...new Set(rights.map((r) => r.role))];
  const subject = { kind: 'ServiceAccount', name: id, namespace: OPERATOR_NAMESPACE };
  const objects: KubernetesObject[] = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: id, namespace: OPERATOR_NAMESPACE } } as KubernetesObject];
  for (const role of roles) {
    const name = `${id}-${role.name}`;
    const metadata = { name, ...(role.namespace ? { namespace: role.namespace } : {}) };
    const rules = kept
      .filter((r) => r.role === role)
      .map((r) => ({ apiGroups: r.apiGroups, resources: [r.resource], verbs: [r.verb], ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) }));
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: role.kind, metadata, rules } as KubernetesObject);
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: role.kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name },
      subjects: [subject],
    } as KubernetesObject);
  }
  await applyManifests(admin, objects);
  const kc = cp.tokenKubeConfig(await mintServiceAccountToken(admin, OPERATOR_NAMESPACE, id));
  // RBAC reaches the authorizer through its informers: wait until every kept right is granted, so
  // the refusal below is for the one right left out, not for rules still on their way.
  await eventually(`the rights of ${id}`, async () => (await Promise.all(kept.map((r) => allows(kc, r)))).every(Boolean), (ok) => ok, 15_000, 100);
  expect(await allows(kc, without), `${without.key} is granted by another rule too: it is redundant`).toBe(false);
  return kc;
}

/** SelfSubjectAccessReview for a right, with a concrete group and resource where the rule has '*'. */
async function allows(kc: KubeConfig, right: Right): Promise<boolean> {
  const [resource, subresource] = right.resource.split('/') as [string, string | undefined];
  const wildcard = right.apiGroups.includes('*');
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: {
      spec: {
        resourceAttributes: {
          verb: right.verb,
          group: wildcard ? 'apps' : right.apiGroups[0]!,
          resource: resource === '*' ? 'deployments' : resource,
          subresource,
          namespace: right.role.namespace ?? APP_NAMESPACE,
          name: right.resourceNames?.[0],
        },
      },
    },
  });
  return review.status?.allowed === true;
}

// ---------------------------------------------------------------------------------------------------
// The operator calls each right is for, made with the operator's own classes.

/** A logger whose lines are kept, to see the failures the operator's classes log rather than throw. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }), lines };
}

let unique = 0;
const nextName = (prefix: string): string => `${prefix}-${++unique}`;

function createScaler(): Promise<PredictiveScaler> {
  return createMinimalScaler(admin, APP_NAMESPACE, nextName('scaler'));
}

/**
 * Starts an informer, creates an object it should deliver, and resolves once the watch delivered it;
 * rejects with the failure the informer logged (its list or its watch refused) or after a timeout.
 */
async function informerDelivers(build: (logger: Logger) => ResilientInformer<KubernetesObject>, create: () => Promise<string>): Promise<void> {
  const { logger, lines } = capturingLogger();
  const informer = build(logger);
  const seen = new Set<string>();
  informer.on('add', (o) => seen.add(o.metadata?.name ?? ''));
  const failure = () => lines.find((l) => l.msg === 'watch failed; restarting');
  try {
    await informer.start();
    const name = await create();
    const deadline = Date.now() + 15_000;
    while (!seen.has(name) && !failure() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (failure()) throw new Error(`the informer failed: ${String(failure()!.err)}`);
    if (!seen.has(name)) throw new Error(`the informer did not deliver ${name}`);
  } finally {
    await informer.stop();
  }
}

const watchScalers = (kc: KubeConfig) =>
  informerDelivers((logger) => scalerInformer(kc, logger) as unknown as ResilientInformer<KubernetesObject>, async () => (await createScaler()).metadata.name);

const watchHpas = (kc: KubeConfig) =>
  informerDelivers(
    (logger) => new HpaInformerIndex(kc, logger).informer as unknown as ResilientInformer<KubernetesObject>,
    async () => {
      const name = nextName('hpa');
      await applyManifests(admin, [
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name, namespace: APP_NAMESPACE },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3 },
        } as KubernetesObject,
      ]);
      return name;
    },
  );

const watchPods = (kc: KubeConfig) =>
  informerDelivers(
    (logger) => new PodStartupInformer(kc, logger).informer as unknown as ResilientInformer<KubernetesObject>,
    async () => {
      const name = nextName('pod');
      const pod: V1Pod = { metadata: { name, namespace: APP_NAMESPACE, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } };
      await admin.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: APP_NAMESPACE, body: pod });
      return name;
    },
  );

/** A status write from a stale copy: PUT status, 409 Conflict, GET the scaler, PUT again. */
async function writeStatusFromStaleCopy(kc: KubeConfig): Promise<void> {
  const stale = await createScaler();
  const name = stale.metadata.name;
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace: APP_NAMESPACE, name, body: [{ op: 'add', path: '/metadata/annotations', value: { touched: 'yes' } }] },
  );
  const wrote = await new KubeStatusWriter(kc).update(stale, (current) => ({ ...current.status, desiredReplicas: 3, observedGeneration: current.metadata.generation }));
  expect(wrote).toBe(true);
  const after = (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: APP_NAMESPACE, name })) as PredictiveScaler;
  expect(after.status?.desiredReplicas).toBe(3);
}

/** A status write that runs out of optimistic attempts: PUT, 409 Conflict, GET, then the unconditional JSON Patch. */
async function writeStatusPastConflicts(kc: KubeConfig): Promise<void> {
  const stale = await createScaler();
  const name = stale.metadata.name;
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace: APP_NAMESPACE, name, body: [{ op: 'add', path: '/metadata/annotations', value: { touched: 'yes' } }] },
  );
  const wrote = await new KubeStatusWriter(kc, 1).update(stale, (current) => ({ ...current.status, desiredReplicas: 4, observedGeneration: current.metadata.generation }));
  expect(wrote).toBe(true);
  const after = (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: APP_NAMESPACE, name })) as PredictiveScaler;
  expect(after.status?.desiredReplicas).toBe(4);
}

const WEB = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

async function readScale(kc: KubeConfig): Promise<void> {
  const scale = await new KubeScaleClient(kc).getScale(APP_NAMESPACE, WEB);
  expect(scale.replicas).toBeGreaterThan(0);
}

async function setReplicas(kc: KubeConfig): Promise<void> {
  const replicas = 3 + (++unique % 5);
  await new KubeScaleClient(kc).setReplicas(APP_NAMESPACE, WEB, replicas);
  expect((await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: APP_NAMESPACE })).spec?.replicas).toBe(replicas);
}

async function recordEvent(kc: KubeConfig): Promise<void> {
  const { logger, lines } = capturingLogger();
  const scaler = await createScaler();
  const note = nextName('rbac-check');
  await new KubeEventRecorder(kc, 'rbac-test', logger).record(scaler, { type: 'Normal', reason: 'ScaledUp', action: 'Scale', note });
  const failed = lines.find((l) => l.msg === 'could not record event');
  if (failed) throw new Error(`the event was not recorded: ${String(failed.err)}`);
  const events = await admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: APP_NAMESPACE });
  expect(events.items.map((e) => e.note)).toContain(note);
}

const SIGNING_KEY = { key: async () => Buffer.alloc(32, 7) };
const modelStore = (kc: KubeConfig) => new ConfigMapModelStore(kc, { operatorVersion: 'rbac-test', signingKey: SIGNING_KEY });

/** Saves a model into a new ConfigMap, saves it again (an update), and reads it back. */
async function keepModel(kc: KubeConfig): Promise<void> {
  const scaler = { namespace: APP_NAMESPACE, name: nextName('models'), uid: nextName('uid') };
  const store = modelStore(kc);
  expect(await store.save(scaler, 'rps', { model: 'HoltWinters', level: 1 })).toMatchObject({ saved: true });
  expect(await store.save(scaler, 'rps', { model: 'HoltWinters', level: 2 })).toMatchObject({ saved: true });
  expect(await store.load(scaler, 'rps')).toMatchObject({ record: { model: 'HoltWinters', level: 2 } });
}

/** Loading for a scaler whose ConfigMap an earlier scaler of the same name left behind deletes it. */
async function dropStaleModels(kc: KubeConfig): Promise<void> {
  const scaler = { namespace: APP_NAMESPACE, name: nextName('stale'), uid: nextName('uid') };
  const name = modelConfigMapName(scaler.name);
  await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace: APP_NAMESPACE,
    body: {
      metadata: {
        name,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'PredictiveScaler', name: scaler.name, uid: 'an-earlier-scaler' }],
      },
    },
  });
  const result = await modelStore(kc).load(scaler, 'rps');
  if (!('discarded' in result) || !result.discarded.endsWith('; deleted it')) throw new Error(`the stale ConfigMap was not deleted: ${JSON.stringify(result)}`);
  const gone = await admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name, namespace: APP_NAMESPACE }).then(() => false, () => true);
  expect(gone).toBe(true);
}

/** Acquires a Lease by creating it, and renews it (read, then replace) before releasing it. */
async function leadAndRenew(kc: KubeConfig): Promise<void> {
  const { logger, lines } = capturingLogger();
  const name = nextName('lease');
  const leases = admin.makeApiClient(CoordinationV1Api);
  let leading = false;
  const elector = new LeaderElector({
    api: kc.makeApiClient(CoordinationV1Api),
    namespace: OPERATOR_NAMESPACE,
    name,
    identity: 'rbac-test',
    leaseDurationMs: 3_000,
    renewDeadlineMs: 2_000,
    retryPeriodMs: 200,
    logger,
  });
  const done = elector.run({ onStartedLeading: () => void (leading = true), onStoppedLeading: () => undefined });
  const failure = () => lines.find((l) => l.msg === 'leader election attempt failed');
  try {
    const deadline = Date.now() + 10_000;
    let firstVersion: string | undefined;
    let renewed = false;
    while (!failure() && !renewed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      if (!leading) continue;
      const version = (await leases.readNamespacedLease({ name, namespace: OPERATOR_NAMESPACE })).metadata?.resourceVersion;
      firstVersion ??= version;
      renewed = version !== firstVersion;
    }
    if (failure()) throw new Error(`leader election failed: ${String(failure()!.err)}`);
    if (!renewed) throw new Error(leading ? 'the lease was never renewed' : 'leadership was never acquired');
  } finally {
    await elector.release();
    await done;
  }
}

/** The model signing key: read by name, created when missing (as on the operator's first start). */
async function signingKeyFromSecret(kc: KubeConfig): Promise<void> {
  await admin.makeApiClient(CoreV1Api).deleteNamespacedSecret({ name: DEFAULT_SIGNING_SECRET_NAME, namespace: OPERATOR_NAMESPACE }).catch(() => undefined);
  const key = await new SecretSigningKey(kc, { namespace: OPERATOR_NAMESPACE }).key();
  expect(key.length).toBeGreaterThanOrEqual(32);
  // A second operator start reads the key the first one created.
  expect(await new SecretSigningKey(kc, { namespace: OPERATOR_NAMESPACE }).key()).toEqual(key);
}

/** The Secret exists, so the reader's "cannot be had" (undefined) means the read was forbidden. */
async function readAuthSecret(kc: KubeConfig): Promise<void> {
  const secret = await kubeSecretReader(kc)(APP_NAMESPACE, 'prom-auth');
  if (!secret) throw new Error(`reading Secret ${APP_NAMESPACE}/prom-auth was forbidden`);
  expect(Buffer.from(secret.data!.token!, 'base64').toString()).toBe('t0ken');
}

// A scraper's token to review: any ServiceAccount's will do; the operator's own exists here.
const SCRAPER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}`;

async function reviewToken(kc: KubeConfig): Promise<void> {
  const token = await mintServiceAccountToken(admin, OPERATOR_NAMESPACE, OPERATOR_SA);
  expect(await kubeAccessReviews(kc).authenticate(token)).toMatchObject({ username: SCRAPER });
}

async function reviewAccess(kc: KubeConfig): Promise<void> {
  const user = { username: SCRAPER, groups: ['system:serviceaccounts', 'system:authenticated'] };
  expect(typeof (await kubeAccessReviews(kc).authorize(user, '/metrics'))).toBe('boolean');
}

interface Operation {
  does: string;
  run(kc: KubeConfig): Promise<void>;
}

const op = (does: string, run: (kc: KubeConfig) => Promise<void>): Operation => ({ does, run });
const WATCH_SCALERS = op('runs the PredictiveScaler informer', watchScalers);
const WRITE_STATUS = op('writes a status from a stale copy', writeStatusFromStaleCopy);
const WATCH_HPAS = op('runs the HorizontalPodAutoscaler informer', watchHpas);
const KEEP_MODEL = op('saves, updates and loads a model ConfigMap', keepModel);
const LEAD = op('acquires and renews the leader Lease', leadAndRenew);
const SIGNING_KEY_SECRET = op('creates and reads the model signing key Secret', signingKeyFromSecret);

/** Every right the operator may hold, by Right.key, and the operator call that needs it. */
const OPERATIONS: Record<string, Operation> = {
  'ClusterRole autoscaling.prescale.dev/predictivescalers list': WATCH_SCALERS,
  'ClusterRole autoscaling.prescale.dev/predictivescalers watch': WATCH_SCALERS,
  'ClusterRole autoscaling.prescale.dev/predictivescalers get': WRITE_STATUS,
  'ClusterRole autoscaling.prescale.dev/predictivescalers/status update': WRITE_STATUS,
  'ClusterRole autoscaling.prescale.dev/predictivescalers/status patch': op('writes a status past a run of conflicts', writeStatusPastConflicts),
  'ClusterRole */*/scale get': op('reads a Deployment\'s scale', readScale),
  'ClusterRole */*/scale patch': op('sets a Deployment\'s replicas', setReplicas),
  'ClusterRole autoscaling/horizontalpodautoscalers list': WATCH_HPAS,
  'ClusterRole autoscaling/horizontalpodautoscalers watch': WATCH_HPAS,
  'ClusterRole events.k8s.io/events create': op('records an Event', recordEvent),
  'ClusterRole /configmaps get': KEEP_MODEL,
  'ClusterRole /configmaps create': KEEP_MODEL,
  'ClusterRole /configmaps update': KEEP_MODEL,
  'ClusterRole /configmaps delete': op('deletes an earlier scaler\'s model ConfigMap', dropStaleModels),
  'ClusterRole /pods list': op('runs the pod informer (learned lead time)', watchPods),
  'ClusterRole /pods watch': op('runs the pod informer (learned lead time)', watchPods),
  'ClusterRole /secrets get': op('reads a Prometheus auth Secret', readAuthSecret),
  'ClusterRole authentication.k8s.io/tokenreviews create': op('reviews a /metrics bearer token', reviewToken),
  'ClusterRole authorization.k8s.io/subjectaccessreviews create': op('asks whether a /metrics user may get /metrics', reviewAccess),
  'Role coordination.k8s.io/leases get': LEAD,
  'Role coordination.k8s.io/leases create': LEAD,
  'Role coordination.k8s.io/leases update': LEAD,
  'Role /secrets get': SIGNING_KEY_SECRET,
  'Role /secrets create': SIGNING_KEY_SECRET,
};

// ---------------------------------------------------------------------------------------------------

describe('the base install (kubectl apply -k deploy/)', () => {
  it('binds the operator to its roles, and nothing else', () => {
    const kinds = base.map((o) => o.kind).sort();
    expect(kinds).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    expect(operatorRoles(base).map((r) => `${r.kind} ${r.name}`).sort()).toEqual(['ClusterRole prescale', 'ClusterRole prescale-learned-lead-time', 'Role prescale-leader-election']);
  });

  it('reads no Secret outside its own namespace: no right on secrets, and the Prometheus auth Secret read is refused', async () => {
    for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
      expect(await canI(operator, { verb, group: '', resource: 'secrets', namespace: APP_NAMESPACE }), `${verb} secrets`).toBe(false);
    }
    expect(await statusOf(() => operator.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'prom-auth', namespace: APP_NAMESPACE }))).toBe(403);
    expect(await kubeSecretReader(operator)(APP_NAMESPACE, 'prom-auth')).toBeUndefined();
    // In its own namespace, only the model signing key, by name.
    expect(await canI(operator, { verb: 'get', group: '', resource: 'secrets', namespace: OPERATOR_NAMESPACE, name: 'someone-elses' })).toBe(false);
    expect(await canI(operator, { verb: 'get', group: '', resource: 'secrets', namespace: OPERATOR_NAMESPACE, name: DEFAULT_SIGNING_SECRET_NAME })).toBe(true);
  });

  // Computed from the install at run time: a right added to deploy/ is covered without touching this.
  it('a ServiceAccount with every right but one is refused the call that right is for, for each right of the base', async () => {
    const rights = rightsOf(operatorRoles(base));
    expect(rights.length).toBeGreaterThan(15);
    for (const right of rights) expect(OPERATIONS[right.key], `no operator call is known for ${right.key}: remove the right, or add its call to OPERATIONS`).toBeDefined();
    await expectEachRightNeeded('base', rights, rights);
  }, 300_000);
});

describe('with the components that add rights (prometheus-auth-secrets and secure-metrics)', () => {
  beforeAll(async () => {
    await applyManifests(admin, full);
  });

  it('the prometheus-auth-secrets component grants get on Secrets, and only get', async () => {
    await eventually('get secrets', () => canI(operator, { verb: 'get', group: '', resource: 'secrets', namespace: APP_NAMESPACE }), (ok) => ok, 15_000, 100);
    await readAuthSecret(operator);
    for (const verb of ['list', 'watch', 'create', 'update', 'patch', 'delete']) {
      expect(await canI(operator, { verb, group: '', resource: 'secrets', namespace: APP_NAMESPACE }), `${verb} secrets`).toBe(false);
    }
  });

  it('every right the operator holds is needed by an operator call known to this test', () => {
    const unknown = rightsOf(operatorRoles(full)).filter((r) => !OPERATIONS[r.key]).map((r) => `${r.key} (${r.role.kind} ${r.role.name})`);
    expect(unknown, 'rights no operator call is known for: remove them, or add the call they are for to OPERATIONS').toEqual([]);
  });

  it('each known operator call works with the operator\'s own token', async () => {
    const operations = new Set(rightsOf(operatorRoles(full)).map((r) => OPERATIONS[r.key]!));
    for (const operation of operations) {
      try {
        await operation.run(operator);
      } catch (err) {
        throw new Error(`the operator ${operation.does}: ${describeApiError(err)}`);
      }
    }
  });

  it('a ServiceAccount with every right but one is refused the call that right is for, for each right a component adds', async () => {
    const inBase = new Set(rightsOf(operatorRoles(base)).map(rightId));
    const rights = rightsOf(operatorRoles(full));
    const added = rights.filter((r) => !inBase.has(rightId(r)));
    expect(added.map((r) => r.key)).toContain('ClusterRole /secrets get');
    await expectEachRightNeeded('with-components', rights, added);
  }, 300_000);
});

const rightId = (r: Right): string => `${r.role.kind} ${r.role.name} ${r.key} ${r.resourceNames?.join(',') ?? ''}`;

/**
 * For each of `tested` (a subset of `rights`): a ServiceAccount holding all of `rights` but that one
 * is refused the operator call the right is for, and the refusal is an authorization failure.
 */
async function expectEachRightNeeded(prefix: string, rights: Right[], tested: Right[]): Promise<void> {
  const failures: string[] = [];
  for (const [i, right] of tested.entries()) {
    const kc = await serviceAccountWithout(`${prefix}-minus-${i}`, rights, right);
    const operation = OPERATIONS[right.key]!;
    const outcome = await operation.run(kc).then(
      () => 'succeeded',
      (err: unknown) => describeApiError(err),
    );
    if (outcome === 'succeeded') failures.push(`without ${right.key} (${right.role.name}) the operator still ${operation.does}`);
    else expect(outcome, `without ${right.key}, ${operation.does} fails for another reason than authorization`).toMatch(/forbidden|403/i);
  }
  expect(failures).toEqual([]);
}

describe('what the operator must never be able to do', () => {
  it.each([
    ['read a Deployment', (kc: KubeConfig) => kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: APP_NAMESPACE })],
    [
      "patch a Deployment's spec",
      (kc: KubeConfig) =>
        kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({ name: 'web', namespace: APP_NAMESPACE, body: [{ op: 'replace', path: '/spec/replicas', value: 9 }] }),
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
          name: 'any',
          body: [{ op: 'replace', path: '/spec/maxReplicas', value: 99 }],
        }),
    ],
    ['delete a PredictiveScaler', (kc: KubeConfig) => kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: APP_NAMESPACE, plural: PLURAL, name: 'any' })],
    ['list Secrets', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: APP_NAMESPACE })],
    ['list Secrets in its own namespace', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: OPERATOR_NAMESPACE })],
    ['take a Lease outside prescale-system', (kc: KubeConfig) => kc.makeApiClient(CoordinationV1Api).createNamespacedLease({ namespace: APP_NAMESPACE, body: { metadata: { name: 'steal' }, spec: {} } })],
    ['list ConfigMaps', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: APP_NAMESPACE })],
    [
      'patch a ConfigMap',
      (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).patchNamespacedConfigMap({ name: 'user-config', namespace: APP_NAMESPACE, body: [{ op: 'add', path: '/data/x', value: 'y' }] }),
    ],
    ['read a pod\'s logs', (kc: KubeConfig) => kc.makeApiClient(CoreV1Api).readNamespacedPodLog({ name: 'web-0', namespace: APP_NAMESPACE })],
    ['grant itself a role', (kc: KubeConfig) => kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: { metadata: { name: 'mine' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: OPERATOR_SA, namespace: OPERATOR_NAMESPACE }] } })],
  ])('is refused to %s', async (_label, call) => {
    expect(await statusOf(() => call(operator))).toBe(403);
  });

  it.each([
    ['update HorizontalPodAutoscalers', { verb: 'update', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: APP_NAMESPACE }],
    ['delete events', { verb: 'delete', group: 'events.k8s.io', resource: 'events', namespace: APP_NAMESPACE }],
    ['watch ConfigMaps', { verb: 'watch', group: '', resource: 'configmaps', namespace: APP_NAMESPACE }],
    ['list ConfigMaps in every namespace', { verb: 'list', group: '', resource: 'configmaps' }],
    ['deletecollection ConfigMaps', { verb: 'deletecollection', group: '', resource: 'configmaps', namespace: APP_NAMESPACE }],
    ['exec into pods', { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: APP_NAMESPACE }],
    ['get a pod', { verb: 'get', group: '', resource: 'pods', namespace: APP_NAMESPACE }],
    ['update a scale target\'s object through its group', { verb: 'update', group: 'argoproj.io', resource: 'rollouts', namespace: APP_NAMESPACE }],
    ['delete its Lease', { verb: 'delete', group: 'coordination.k8s.io', resource: 'leases', namespace: OPERATOR_NAMESPACE }],
    ['change its own RBAC', { verb: 'update', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }],
  ])('may not %s', async (_label, attributes) => {
    expect(await canI(operator, attributes)).toBe(false);
  });
});

describe('deploy/ Deployment', () => {
  it("has a pod template the namespace's restricted Pod Security level admits", async () => {
    const deployment = base.find((o) => o.kind === 'Deployment') as V1Deployment;
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'prescale-podsecurity-check', namespace: OPERATOR_NAMESPACE },
      spec: deployment.spec!.template.spec,
    };
    // Pod Security admission enforces on pods, not on Deployments; a dry-run pod runs the check.
    await admin.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: OPERATOR_NAMESPACE, body: pod, dryRun: 'All' });
    const privileged: V1Pod = structuredClone(pod);
    privileged.spec!.containers[0]!.securityContext = { privileged: true };
    expect(await statusOf(() => admin.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: OPERATOR_NAMESPACE, body: privileged, dryRun: 'All' }))).toBe(403);
  });
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

async function canI(kc: KubeConfig, attributes: { verb: string; group: string; resource: string; subresource?: string; namespace?: string; name?: string }): Promise<boolean> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
  return review.status?.allowed === true;
}
