// The Helm chart (charts/prescale) and the kustomize tree (deploy/) are one install written twice:
// with `helm template` (the helm that hack/build-helm.sh builds) and `kubectl kustomize` (the kubectl
// the tests build), the chart's default values render exactly the objects of deploy/,
// values-production.yaml those of deploy/overlays/production, and each chart value for an optional
// feature what its kustomize component (deploy/components/*), deploy/optional or deploy/grafana adds.
// Objects are compared as sets keyed by apiVersion, kind, namespace and name, field by field. The
// chart lints, its renders are accepted by a real kube-apiserver (server-side dry run, strict field
// validation), `helm install` works as the README says, and the chart's copies of the CRD and the
// Grafana dashboard are byte-for-byte those of crds/ and deploy/grafana/.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { kubectl } from '../helpers/kustomize.js';
import { applyManifests } from '../helpers/manifests.js';
import { parseObjects, runCommand, serverDryRun, type K8sObject, type RunResult } from '../helpers/rendered.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHART = join(ROOT, 'charts', 'prescale');
const PRODUCTION_VALUES = join(CHART, 'values-production.yaml');
const DEPLOY = join(ROOT, 'deploy');
const BASE = join(DEPLOY, 'base');
const PRODUCTION = join(DEPLOY, 'overlays', 'production');
const COMPONENTS = join(DEPLOY, 'components');
const SERVICE_MONITOR_CRD = join(ROOT, 'test', 'fixtures', 'servicemonitor-crd.yaml');
/** deploy/ hard-codes this namespace; the chart renders into the release namespace. */
const NAMESPACE = 'prescale-system';

// Helm keeps its configuration and caches here, not in the user's home.
const HELM_HOME = mkdtempSync(join(tmpdir(), 'prescale-helm-'));
const OVERLAYS = join(HELM_HOME, 'overlays');
mkdirSync(OVERLAYS);
afterAll(() => rmSync(HELM_HOME, { recursive: true, force: true }));
const HELM_ENV = {
  ...process.env,
  HELM_CACHE_HOME: join(HELM_HOME, 'cache'),
  HELM_CONFIG_HOME: join(HELM_HOME, 'config'),
  HELM_DATA_HOME: join(HELM_HOME, 'data'),
};


let helmPath: Promise<string> | undefined;
/** hack/build-helm.sh builds helm from Go modules on first use (minutes), then finds it in the cache. */
function helmBinary(): Promise<string> {
  helmPath ??= promisify(execFile)('bash', [join(ROOT, 'hack', 'build-helm.sh')], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 40 * 60_000,
  }).then(({ stdout }) => join(stdout.trim().split('\n').pop()!.trim(), 'helm'));
  return helmPath;
}

async function helm(args: string[]): Promise<RunResult> {
  return runCommand(await helmBinary(), args, '', HELM_ENV);
}

/**
 * Parsed as the API server reads YAML (1.1: `yes` is a boolean), into plain objects: client-node's
 * typed loader (which renderKustomization uses) drops fields its models do not know, and a
 * misspelt field in one render would then compare equal.
 */
function parseChartObjects(text: string, origin: string): K8sObject[] {
  return parseObjects(text, origin, '1.1');
}

/** `helm template` of the chart into prescale-system, with values files and --set values. */
async function chartRender(options: { values?: string[]; set?: string[]; namespace?: string } = {}): Promise<K8sObject[]> {
  const args = ['template', 'prescale', CHART, '--namespace', options.namespace ?? NAMESPACE];
  for (const f of options.values ?? []) args.push('--values', f);
  for (const s of options.set ?? []) args.push('--set', s);
  const result = await helm(args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed: ${result.stderr}`);
  return parseChartObjects(result.stdout, `helm template ${[...(options.values ?? []), ...(options.set ?? [])].join(' ')}`);
}

/**
 * `kubectl kustomize` of a directory, or of a throwaway overlay of `resources` plus `components`
 * (kustomize takes both only from a kustomization, by relative path). The raw text, parsed as above.
 */
async function kustomizeRender(resources: string[], components: string[] = []): Promise<K8sObject[]> {
  let dir = resources[0]!;
  if (resources.length > 1 || components.length > 0) {
    dir = join(OVERLAYS, String(readdirSync(OVERLAYS).length));
    mkdirSync(dir);
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: resources.map((r) => relative(dir, r)),
      components: components.map((c) => relative(dir, c)),
    };
    writeFileSync(join(dir, 'kustomization.yaml'), stringify(kustomization));
  }
  const result = await runCommand(await kubectl(), ['kustomize', dir]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${relative(ROOT, dir)} failed: ${result.stderr}`);
  return parseChartObjects(result.stdout, `kubectl kustomize ${resources.map((r) => relative(ROOT, r)).join(' + ')}`);
}

const keyOf = (o: K8sObject): string => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** Where two values differ, one line per difference ("path: chart X, kustomize Y"). */
function fieldDifferences(chart: unknown, kustomize: unknown, path: string): string[] {
  if (isDeepStrictEqual(chart, kustomize)) return [];
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(chart) && isObject(kustomize)) {
    const keys = [...new Set([...Object.keys(chart), ...Object.keys(kustomize)])].sort();
    return keys.flatMap((k) => fieldDifferences(chart[k], kustomize[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(chart) && Array.isArray(kustomize) && chart.length === kustomize.length) {
    return chart.flatMap((item, i) => fieldDifferences(item, kustomize[i], `${path}[${i}]`));
  }
  return [`${path || '(object)'}: chart ${show(chart)}, kustomize ${show(kustomize)}`];
}

/** Every way the two sets of objects differ; empty when they hold the same objects. */
function renderDifferences(chart: K8sObject[], kustomize: K8sObject[]): string[] {
  const index = (objects: K8sObject[], side: string, out: string[]): Map<string, K8sObject> => {
    const map = new Map<string, K8sObject>();
    for (const o of objects) {
      if (map.has(keyOf(o))) out.push(`${side} renders ${keyOf(o)} twice`);
      map.set(keyOf(o), o);
    }
    return map;
  };
  const out: string[] = [];
  const c = index(chart, 'the chart', out);
  const k = index(kustomize, 'kustomize', out);
  for (const key of [...new Set([...c.keys(), ...k.keys()])].sort()) {
    if (!k.has(key)) out.push(`${key}: only in the chart`);
    else if (!c.has(key)) out.push(`${key}: only in kustomize`);
    else out.push(...fieldDifferences(c.get(key), k.get(key), '').map((d) => `${key}: ${d}`));
  }
  return out;
}

/**
 * Each kustomize component, and the chart values that turn on the same feature. Listed in the order
 * the chart appends the components' flags, so that several applied together give the same args.
 * Every directory under deploy/components/ must be here (checked below).
 */
const FEATURES: Array<{ component: string; set: string[] }> = [
  { component: 'without-learned-lead-time', set: ['learnLeadTime.enabled=false'] },
  { component: 'prometheus-auth-secrets', set: ['prometheusAuthSecrets.enabled=true'] },
  { component: 'secure-metrics', set: ['secureMetrics.enabled=true'] },
  { component: 'publishing', set: ['publishing.enabled=true'] },
  { component: 'network-policy', set: ['networkPolicy.enabled=true'] },
  { component: 'network-policy-egress', set: ['networkPolicy.egress.enabled=true'] },
];
const featureCases = FEATURES.map((f) => [f.component, f] as const);
const componentDir = (name: string): string => join(COMPONENTS, name);

describe('the chart and deploy/ render the same objects', () => {
  beforeAll(async () => {
    // Builds helm on a cold cache: allow for it here rather than in the first test.
    await helmBinary();
    await kubectl();
  }, 40 * 60_000);

  it('default values: kubectl kustomize deploy/', async () => {
    const chart = await chartRender();
    expect(chart.map(keyOf)).toContain(`v1 Namespace ${NAMESPACE}`);
    expect(renderDifferences(chart, await kustomizeRender([DEPLOY]))).toEqual([]);
  });

  it('values-production.yaml: kubectl kustomize deploy/overlays/production', async () => {
    const chart = await chartRender({ values: [PRODUCTION_VALUES] });
    // Not vacuous: the overlay's additions are there.
    expect(chart.map(keyOf)).toEqual(
      expect.arrayContaining([
        `monitoring.coreos.com/v1 ServiceMonitor ${NAMESPACE}/prescale`,
        `v1 ConfigMap ${NAMESPACE}/prescale-grafana-dashboard`,
        `policy/v1 PodDisruptionBudget ${NAMESPACE}/prescale`,
        `networking.k8s.io/v1 NetworkPolicy ${NAMESPACE}/prescale-ingress`,
      ]),
    );
    expect(renderDifferences(chart, await kustomizeRender([PRODUCTION]))).toEqual([]);
  });

  it('publishing.enabled: deploy/base + components/publishing', async () => {
    const chart = await chartRender({ set: ['publishing.enabled=true'] });
    expect(chart.map(keyOf)).toEqual(
      expect.arrayContaining([
        `v1 Service ${NAMESPACE}/prescale-publishing`,
        'apiregistration.k8s.io/v1 APIService v1beta1.external.metrics.k8s.io',
        'rbac.authorization.k8s.io/v1 RoleBinding kube-system/prescale-auth-reader',
        `networking.k8s.io/v1 NetworkPolicy ${NAMESPACE}/prescale-publishing`,
      ]),
    );
    expect(renderDifferences(chart, await kustomizeRender([BASE], [componentDir('publishing')]))).toEqual([]);
  });

  it('every kustomize component has its chart values', () => {
    const components = readdirSync(COMPONENTS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(FEATURES.map((f) => f.component).sort()).toEqual(components.sort());
  });

  it.each(featureCases)('components/%s: the same as its chart values', async (component, { set }) => {
    const chart = await chartRender({ set });
    const kustomize = await kustomizeRender([BASE], [componentDir(component)]);
    // Not vacuous: the component changes the base.
    expect(renderDifferences(kustomize, await kustomizeRender([DEPLOY])).length).toBeGreaterThan(0);
    expect(renderDifferences(chart, kustomize)).toEqual([]);
  });

  it('every component at once: the same as all their chart values', async () => {
    const chart = await chartRender({ set: FEATURES.flatMap((f) => f.set) });
    const kustomize = await kustomizeRender([BASE], FEATURES.map((f) => componentDir(f.component)));
    expect(renderDifferences(chart, kustomize)).toEqual([]);
  });

  it('serviceMonitor.enabled and dashboard.enabled: deploy/optional and deploy/grafana', async () => {
    expect(renderDifferences(await chartRender({ set: ['serviceMonitor.enabled=true'] }), await kustomizeRender([BASE, join(DEPLOY, 'optional')]))).toEqual([]);
    expect(renderDifferences(await chartRender({ set: ['dashboard.enabled=true'] }), await kustomizeRender([BASE, join(DEPLOY, 'grafana')]))).toEqual([]);
  });

  it('secureMetrics.enabled with the ServiceMonitor: components/secure-metrics patches it to scrape over HTTPS', async () => {
    const chart = await chartRender({ set: ['serviceMonitor.enabled=true', 'secureMetrics.enabled=true'] });
    const kustomize = await kustomizeRender([BASE, join(DEPLOY, 'optional')], [componentDir('secure-metrics')]);
    const monitor = kustomize.find((o) => o.kind === 'ServiceMonitor')!;
    expect((monitor.spec as { endpoints: Array<{ scheme?: string }> }).endpoints[0]!.scheme).toBe('https');
    expect(renderDifferences(chart, kustomize)).toEqual([]);
  });

  // The comparison above can fail: one changed field, one missing and one extra object are reported.
  it('reports every difference between two renders', async () => {
    const kustomize = await kustomizeRender([DEPLOY]);
    const chart = structuredClone(kustomize).filter((o) => o.kind !== 'Service');
    const deployment = chart.find((o) => o.kind === 'Deployment')!;
    (deployment.spec as { replicas: unknown }).replicas = '1';
    chart.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: NAMESPACE } });
    expect(renderDifferences(chart, kustomize)).toEqual([
      `apps/v1 Deployment ${NAMESPACE}/prescale: spec.replicas: chart "1", kustomize 1`,
      `v1 ConfigMap ${NAMESPACE}/extra: only in the chart`,
      `v1 Service ${NAMESPACE}/prescale-metrics: only in kustomize`,
    ]);
  });
});

describe('the chart', () => {
  beforeAll(async () => {
    await helmBinary();
  }, 40 * 60_000);

  it.each([
    ['default values', [] as string[]],
    ['values-production.yaml', ['--values', PRODUCTION_VALUES]],
    [
      'every feature',
      [
        ...FEATURES.flatMap((f) => ['--set', f.set[0]!]),
        ...['serviceMonitor.enabled=true', 'dashboard.enabled=true', 'podDisruptionBudget.enabled=true', 'helmLabels=true'].flatMap((s) => ['--set', s]),
      ],
    ],
  ])('passes helm lint --strict with %s', async (_name, args) => {
    const result = await helm(['lint', '--strict', CHART, '--namespace', NAMESPACE, ...args]);
    expect(result.stdout + result.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('helm lint fails a chart with a broken template (so the lint above can fail)', async () => {
    const copy = join(HELM_HOME, 'broken-chart');
    await runCommand('cp', ['-r', CHART, copy]);
    writeFileSync(join(copy, 'templates', 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.deeper }}\n');
    const result = await helm(['lint', copy]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('nil pointer evaluating interface {}.deeper');
  });

  it('crds/ holds the CRD of the repository crds/, byte for byte', () => {
    const repo = readdirSync(join(ROOT, 'crds')).sort();
    expect(readdirSync(join(CHART, 'crds')).sort()).toEqual(repo);
    for (const file of repo) {
      expect(readFileSync(join(CHART, 'crds', file), 'utf8'), `charts/prescale/crds/${file}`).toBe(readFileSync(join(ROOT, 'crds', file), 'utf8'));
    }
  });

  it('helm template --include-crds adds exactly that CRD', async () => {
    const result = await helm(['template', 'prescale', CHART, '--namespace', NAMESPACE, '--include-crds']);
    expect(result.code).toBe(0);
    const crds = parseChartObjects(result.stdout, 'helm template --include-crds').filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name)).toEqual(['predictivescalers.autoscaling.prescale.dev']);
    expect(crds[0]).toEqual(parseChartObjects(readFileSync(join(ROOT, 'crds', 'predictivescalers.autoscaling.prescale.dev.yaml'), 'utf8'), 'crds/')[0]);
  });

  it('files/prescale-dashboard.json is deploy/grafana/prescale-dashboard.json, byte for byte', () => {
    expect(readFileSync(join(CHART, 'files', 'prescale-dashboard.json'), 'utf8')).toBe(readFileSync(join(DEPLOY, 'grafana', 'prescale-dashboard.json'), 'utf8'));
  });

  it('renders into the release namespace', async () => {
    const objects = await chartRender({ namespace: 'ops', set: ['publishing.enabled=true', 'dashboard.enabled=true'] });
    const namespaced = objects.filter((o) => o.metadata.namespace !== undefined);
    expect(namespaced.length).toBeGreaterThan(5);
    for (const o of namespaced) expect(o.metadata.namespace, keyOf(o)).toBe(o.kind === 'RoleBinding' && o.metadata.name === 'prescale-auth-reader' ? 'kube-system' : 'ops');
    expect(objects.find((o) => o.kind === 'Namespace')?.metadata.name).toBe('ops');
    const subjects = objects.filter((o) => o.kind.endsWith('Binding')).flatMap((b) => b.subjects as Array<{ name: string; namespace: string }>);
    for (const s of subjects.filter((s) => s.name === 'prescale')) expect(s.namespace).toBe('ops');
    const apiService = objects.find((o) => o.kind === 'APIService')!;
    expect((apiService.spec as { service: { namespace: string } }).service.namespace).toBe('ops');
  });

  it('createNamespace=false leaves the Namespace out', async () => {
    const objects = await chartRender({ set: ['createNamespace=false'] });
    expect(objects.some((o) => o.kind === 'Namespace')).toBe(false);
    expect(objects.length).toBeGreaterThan(5);
  });

  it('image values: repository and tag, or a digest', async () => {
    const imageOf = (objects: K8sObject[]): Record<string, unknown> =>
      (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!;
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(imageOf(await chartRender({ set: ['image.repository=registry.example/prescale', 'image.tag=0.2.0'] })).image).toBe('registry.example/prescale:0.2.0');
    const pinned = imageOf(await chartRender({ set: [`image.digest=${digest}`, 'image.pullPolicy=IfNotPresent'] }));
    expect(pinned.image).toBe(`prescale@${digest}`);
    expect(pinned.imagePullPolicy).toBe('IfNotPresent');
  });

  it('operator values become flags: leader election, Prometheus, concurrency, training workers, extra args', async () => {
    const objects = await chartRender({
      set: ['leaderElection.enabled=false', 'prometheus.url=http://thanos.obs:9090', 'prometheus.allowlist={http://thanos.obs:9090,http://mimir.obs/prometheus}', 'concurrency=3', 'trainingWorkers=4', 'extraArgs={--no-persist-models}'],
    });
    const args = (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
    expect(args).toEqual([
      'run',
      '--prometheus-url=http://thanos.obs:9090',
      '--prometheus-url-allowlist=http://thanos.obs:9090,http://mimir.obs/prometheus',
      '--metrics-bind-address=:8080',
      '--health-probe-bind-address=:8081',
      '--concurrency=3',
      '--training-workers=4',
      '--no-persist-models',
    ]);
  });

  it('refuses more than one replica without leader election', async () => {
    const result = await helm(['template', 'prescale', CHART, '--namespace', NAMESPACE, '--set', 'replicas=2', '--set', 'leaderElection.enabled=false']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('replicas > 1 needs leaderElection.enabled');
  });

  it('helmLabels=true adds Helm\'s labels to every object, never to a selector', async () => {
    const objects = await chartRender({ set: ['helmLabels=true', 'publishing.enabled=true'] });
    for (const o of objects) {
      expect(o.metadata.labels, keyOf(o)).toMatchObject({ 'helm.sh/chart': 'prescale-0.1.0', 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'prescale' });
    }
    const deployment = objects.find((o) => o.kind === 'Deployment')!.spec as { selector: { matchLabels: Record<string, string> } };
    expect(deployment.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'prescale' });
  });

  describe('publishing', () => {
    it('publishing.externalMetrics.enabled=false: the KEDA scaler only, without the APIService (a cluster with KEDA)', async () => {
      const objects = await chartRender({ set: ['publishing.enabled=true', 'publishing.externalMetrics.enabled=false'] });
      const kinds = objects.map(keyOf);
      expect(kinds).not.toContain('apiregistration.k8s.io/v1 APIService v1beta1.external.metrics.k8s.io');
      expect(kinds.filter((k) => /auth-delegator|auth-reader|external-metrics/.test(k))).toEqual([]);
      const container = (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: { containers: Array<{ args: string[]; ports: Array<{ name: string }> }> } } }).template.spec.containers[0]!;
      expect(container.args).toContain('--external-scaler-bind-address=:9100');
      expect(container.args.some((a) => a.startsWith('--external-metrics'))).toBe(false);
      expect(container.ports.map((p) => p.name)).toEqual(['metrics', 'health', 'external-scaler']);
      const service = objects.find((o) => o.metadata.name === 'prescale-publishing' && o.kind === 'Service')!;
      expect((service.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toEqual(['grpc']);
    });

    it('publishing.keda.enabled=false: the external metrics API only', async () => {
      const objects = await chartRender({ set: ['publishing.enabled=true', 'publishing.keda.enabled=false'] });
      const container = (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!;
      expect(container.args.filter((a) => a.startsWith('--external-'))).toEqual(['--external-metrics-bind-address=:6443']);
      const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'prescale-publishing')!;
      expect((policy.spec as { ingress: Array<{ ports: Array<{ port: string }> }> }).ingress.map((r) => r.ports[0]!.port)).toEqual(['ext-metrics']);
    });

    it('refuses publishing with neither endpoint', async () => {
      const result = await helm(['template', 'prescale', CHART, '--set', 'publishing.enabled=true', '--set', 'publishing.keda.enabled=false', '--set', 'publishing.externalMetrics.enabled=false']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('publishing.enabled needs publishing.keda.enabled or publishing.externalMetrics.enabled');
    });

    it('TLS Secrets are mounted with their cert-dir flags, and a caBundle replaces insecureSkipTLSVerify', async () => {
      const objects = await chartRender({
        set: ['publishing.enabled=true', 'publishing.keda.tlsSecret=scaler-tls', 'publishing.externalMetrics.tlsSecret=metrics-api-tls', 'publishing.externalMetrics.caBundle=Q0E='],
      });
      const pod = (objects.find((o) => o.kind === 'Deployment')!.spec as { template: { spec: PodSpec } }).template.spec;
      const container = pod.containers[0]!;
      expect(container.args).toEqual(expect.arrayContaining(['--external-scaler-cert-dir=/etc/prescale/external-scaler-tls', '--external-metrics-cert-dir=/etc/prescale/external-metrics-tls']));
      expect(container.volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'external-scaler-tls', mountPath: '/etc/prescale/external-scaler-tls', readOnly: true },
          { name: 'external-metrics-tls', mountPath: '/etc/prescale/external-metrics-tls', readOnly: true },
        ]),
      );
      expect(pod.volumes).toEqual(
        expect.arrayContaining([
          { name: 'external-scaler-tls', secret: { secretName: 'scaler-tls' } },
          { name: 'external-metrics-tls', secret: { secretName: 'metrics-api-tls' } },
        ]),
      );
      const apiService = objects.find((o) => o.kind === 'APIService')!.spec as Record<string, unknown>;
      expect(apiService.caBundle).toBe('Q0E=');
      expect(apiService.insecureSkipTLSVerify).toBeUndefined();
      // Without a caBundle the operator's self-signed certificate is not verified.
      const plain = (await chartRender({ set: ['publishing.enabled=true'] })).find((o) => o.kind === 'APIService')!.spec as Record<string, unknown>;
      expect(plain.insecureSkipTLSVerify).toBe(true);
      expect(plain.caBundle).toBeUndefined();
    });
  });
});

interface PodSpec {
  containers: Array<{ args: string[]; volumeMounts: unknown[] }>;
  volumes: unknown[];
}

describe('the chart on a real API server', () => {
  let cp: ControlPlane;
  let kubeconfigArgs: string[];

  beforeAll(async () => {
    await helmBinary();
    cp = await startControlPlane();
    // The chart's own copy of the CRD (equal to crds/, checked above); the ServiceMonitor CRD for
    // values-production.yaml.
    await applyManifests(cp.kubeConfig, [join(CHART, 'crds'), SERVICE_MONITOR_CRD]);
    kubeconfigArgs = [`--kubeconfig=${cp.kubeconfigPath}`];
  }, 40 * 60_000);

  afterAll(async () => {
    await cp?.close();
  });

  const dryRunApply = async (objects: K8sObject[]): Promise<RunResult> => serverDryRun(await kubectl(), kubeconfigArgs, objects);


  it.each<[string, { values?: string[]; set?: string[] }]>([
    ['default values', {}],
    ['values-production.yaml', { values: [PRODUCTION_VALUES] }],
    [
      'every feature, with TLS Secrets and a caBundle',
      {
        values: [PRODUCTION_VALUES],
        set: [
          ...FEATURES.flatMap((f) => f.set),
          'secureMetrics.certSecret=metrics-tls',
          'publishing.keda.tlsSecret=scaler-tls',
          'publishing.externalMetrics.tlsSecret=metrics-api-tls',
          'publishing.externalMetrics.caBundle=Q0E=',
          'helmLabels=true',
        ],
      },
    ],
  ])('kubectl apply --dry-run=server accepts the render with %s', async (_name, options) => {
    const objects = await chartRender(options);
    const result = await dryRunApply(objects);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // One "<kind>/<name> created|configured (server dry run)" line per object.
    expect(result.stdout.trim().split('\n').filter((line) => line.endsWith('(server dry run)'))).toHaveLength(objects.length);
  });

  // The dry run can fail: a render with a misspelt field is refused.
  it('refuses a render with an unknown Deployment field', async () => {
    const objects = structuredClone(await chartRender({ values: [PRODUCTION_VALUES] }));
    (objects.find((o) => o.kind === 'Deployment')!.spec as Record<string, unknown>).replica = 2;
    const result = await dryRunApply(objects);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.replica"');
  });
});

// As the README says, on a fresh cluster: Helm installs the CRD from crds/, creates the namespace
// (--create-namespace) and then applies the chart's own Namespace object over it (server-side apply).
describe('helm install on a fresh API server', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    await helmBinary();
    cp = await startControlPlane();
  }, 40 * 60_000);

  afterAll(async () => {
    await cp?.close();
  });

  const namespace = 'prescale-helm';
  const onCluster = (args: string[]): string[] => [...args, '--namespace', namespace, '--kubeconfig', cp.kubeconfigPath];

  it('helm install --create-namespace installs the CRD and the chart', async () => {
    const install = await helm(onCluster(['install', 'prescale', CHART, '--create-namespace']));
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain('STATUS: deployed');
    const manifest = await helm(onCluster(['get', 'manifest', 'prescale']));
    expect(renderDifferences(parseChartObjects(manifest.stdout, 'helm get manifest'), await chartRender({ namespace }))).toEqual([]);
    const got = await runCommand(await kubectl(), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      'get',
      'crd/predictivescalers.autoscaling.prescale.dev',
      'namespace/prescale-helm',
      'clusterrole/prescale',
      'deployment/prescale',
      '-n',
      namespace,
      '-o',
      'name',
    ]);
    expect(got.stderr).toBe('');
    expect(got.stdout.trim().split('\n')).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/predictivescalers.autoscaling.prescale.dev',
      'namespace/prescale-helm',
      'clusterrole.rbac.authorization.k8s.io/prescale',
      'deployment.apps/prescale',
    ]);
  });

  it('helm upgrade changes the release in place', async () => {
    const upgrade = await helm(onCluster(['upgrade', 'prescale', CHART, '--set', 'replicas=2', '--set', 'podDisruptionBudget.enabled=true']));
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    const got = await runCommand(await kubectl(), [`--kubeconfig=${cp.kubeconfigPath}`, 'get', 'deployment/prescale', 'poddisruptionbudget/prescale', '-n', namespace, '-o', 'jsonpath={.items[*].spec.replicas}']);
    expect(got.stderr).toBe('');
    expect(got.stdout.trim()).toBe('2');
  });
});
