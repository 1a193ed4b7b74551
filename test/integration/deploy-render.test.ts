// Everything under deploy/ as a cluster and Grafana would see it: every kustomization directory
// (found, not listed, so a new overlay is covered without touching this file) renders with the
// kubectl the tests build and is accepted by a real kube-apiserver (server-side dry run, strict field
// validation); so does every kustomize Component under deploy/components/, applied to the base on
// its own and all of them together to the base and to the production overlay; the rendered objects
// keep the invariants the operator relies on (RBAC and flags agree, NetworkPolicies admit only
// scrapes); the Grafana dashboard queries only metrics the operator registers, in valid PromQL; and
// the GitOps examples point at an overlay that exists.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createOperatorMetrics } from '../../src/observability/metrics.js';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyManifests } from '../helpers/manifests.js';
import { parseObjects, runCommand, serverDryRun, type K8sObject, type RunResult } from '../helpers/rendered.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const PRODUCTION = join(DEPLOY, 'overlays', 'production');
const DASHBOARD_PATH = join(DEPLOY, 'grafana', 'prescale-dashboard.json');
const GITOPS = join(ROOT, 'examples', 'gitops');
const SERVICE_MONITOR_CRD = join(ROOT, 'test', 'fixtures', 'servicemonitor-crd.yaml');
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Every directory under `dir` (itself included) that holds a kustomization file, sorted. */
function kustomizationDirs(dir: string): string[] {
  const found = KUSTOMIZATION_FILES.some((f) => existsSync(join(dir, f))) ? [dir] : [];
  const children = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
  return [...found, ...children.flatMap(kustomizationDirs)];
}

const label = (dir: string): string => relative(ROOT, dir) || '.';

function kustomizationOf(dir: string): Record<string, unknown> {
  const file = KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f))!;
  return (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
}
const isComponent = (dir: string): boolean => kustomizationOf(dir).kind === 'Component';

/** What kubectl kustomize renders: a directory under deploy/, or a wrapper applying components to one. */
interface Build {
  name: string;
  dir: string;
}

const FOUND = kustomizationDirs(DEPLOY);
const COMPONENTS = FOUND.filter(isComponent);
const DIRS = FOUND.filter((dir) => !isComponent(dir));

// A Component does not render on its own: a wrapper kustomization (in a temp dir, paths relative,
// as kustomize requires) applies it to a directory. Removed after the run.
const WRAPPERS = mkdtempSync(join(tmpdir(), 'prescale-components-'));
afterAll(() => rmSync(WRAPPERS, { recursive: true, force: true }));
function withComponents(name: string, target: string, components: string[]): Build {
  const dir = join(WRAPPERS, `${readdirSync(WRAPPERS).length}`);
  mkdirSync(dir);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, target)],
    components: components.map((c) => relative(dir, c)),
  };
  writeFileSync(join(dir, 'kustomization.yaml'), stringify(kustomization));
  return { name, dir };
}
const BASE = join(DEPLOY, 'base');
const componentsOf = (dir: string): string[] => ((kustomizationOf(dir).components ?? []) as string[]).map((c) => resolve(dir, c));
const notIn = (dir: string) => COMPONENTS.filter((c) => !componentsOf(dir).includes(c));
const BUILDS: Build[] = [
  ...DIRS.map((dir) => ({ name: label(dir), dir })),
  ...COMPONENTS.map((c) => withComponents(`deploy/base + ${label(c)}`, BASE, [c])),
  withComponents('deploy/base + every component', BASE, notIn(BASE)),
  withComponents('deploy/overlays/production + every component', PRODUCTION, notIn(PRODUCTION)),
];
const buildCases = BUILDS.map((b) => [b.name, b] as const);


const describeObject = (o: K8sObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

// hack/build-k8s-bins.sh builds kubectl from the same Kubernetes release as kube-apiserver (cached).
let kubectlPromise: Promise<string> | undefined;
function kubectl(): Promise<string> {
  kubectlPromise ??= promisify(execFile)('bash', [join(ROOT, 'hack', 'build-k8s-bins.sh'), 'kubectl'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  }).then(({ stdout }) => join(stdout.trim().split('\n').pop()!.trim(), 'kubectl'));
  return kubectlPromise;
}

const renders = new Map<string, Promise<RunResult>>();
function render(dir: string): Promise<RunResult> {
  if (!renders.has(dir)) renders.set(dir, kubectl().then((bin) => runCommand(bin, ['kustomize', dir])));
  return renders.get(dir)!;
}

/** The rendered objects of a kustomization; throws with kubectl's message when it does not render. */
async function rendered(dir: string, name = label(dir)): Promise<K8sObject[]> {
  const result = await render(dir);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${name} failed: ${result.stderr}`);
  return parseObjects(result.stdout, name);
}

function containersOf(deployment: K8sObject): Array<{ name: string; image: string; args?: string[] }> {
  const spec = deployment.spec as { template: { spec: { containers: Array<{ name: string; image: string; args?: string[] }> } } };
  return spec.template.spec.containers;
}

describe('the kustomization directories under deploy/', () => {
  it('are found by walking deploy/, including the base, the optional add-ons, the dashboard, the production overlay and the components', () => {
    expect(DIRS.map(label)).toEqual(
      expect.arrayContaining(['deploy', 'deploy/base', 'deploy/optional', 'deploy/grafana', 'deploy/overlays/production']),
    );
    expect(COMPONENTS.map(label)).toEqual(
      expect.arrayContaining([
        'deploy/components/network-policy',
        'deploy/components/network-policy-egress',
        'deploy/components/prometheus-auth-secrets',
        'deploy/components/without-learned-lead-time',
      ]),
    );
  });

  it.each(buildCases)('%s renders with kubectl kustomize', async (name, { dir }) => {
    const result = await render(dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const objects = parseObjects(result.stdout, name);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      expect(o.apiVersion, describeObject(o)).toBeTruthy();
      expect(o.metadata?.name, `${o.kind} without a name`).toBeTruthy();
    }
  });

  it('every Deployment with more than one replica elects a leader (--leader-elect)', async () => {
    let multiReplica = 0;
    for (const { name, dir } of BUILDS) {
      for (const d of (await rendered(dir, name)).filter((o) => o.kind === 'Deployment')) {
        if (((d.spec as { replicas?: number }).replicas ?? 1) <= 1) continue;
        multiReplica++;
        for (const c of containersOf(d)) expect(c.args, `${name}: ${describeObject(d)} container ${c.name}`).toContain('--leader-elect');
      }
    }
    // The production overlay runs a warm standby, so the check above is never vacuous.
    expect(multiReplica).toBeGreaterThan(0);
  });

  it('every prescale image is pinned to a version tag or a digest', async () => {
    for (const { name, dir } of BUILDS) {
      for (const d of (await rendered(dir, name)).filter((o) => o.kind === 'Deployment')) {
        for (const { image } of containersOf(d)) {
          const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || /:[\w][\w.-]*$/.test(image.split('/').pop()!);
          expect(pinned && !image.endsWith(':latest'), `${name}: image ${image}`).toBe(true);
        }
      }
    }
  });

  // The operator labels its series with the scaler's `namespace`; Prometheus would rename that label
  // to exported_namespace unless the scrape honours the target's labels, and the dashboard's
  // namespace filter would match nothing.
  it('every ServiceMonitor keeps the operator\'s own namespace label (honorLabels: true)', async () => {
    let monitors = 0;
    for (const dir of DIRS) {
      for (const sm of (await rendered(dir)).filter((o) => o.kind === 'ServiceMonitor')) {
        monitors++;
        const endpoints = (sm.spec as { endpoints: Array<{ honorLabels?: boolean }> }).endpoints;
        expect(endpoints.length).toBeGreaterThan(0);
        for (const e of endpoints) expect(e.honorLabels, `${label(dir)}: ${describeObject(sm)}`).toBe(true);
      }
    }
    expect(monitors).toBeGreaterThan(0);
  });

  it('every dashboard ConfigMap carries deploy/grafana/prescale-dashboard.json unchanged, labelled for the Grafana sidecar', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as unknown;
    let configMaps = 0;
    for (const dir of DIRS) {
      for (const cm of (await rendered(dir)).filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard !== undefined)) {
        configMaps++;
        expect(cm.metadata.labels!.grafana_dashboard).toBe('1');
        expect(cm.metadata.namespace, `${label(dir)}: ${describeObject(cm)}`).toBe('prescale-system');
        const data = cm.data as Record<string, string>;
        expect(Object.keys(data)).toEqual(['prescale-dashboard.json']);
        expect(JSON.parse(data['prescale-dashboard.json']!)).toEqual(dashboard);
      }
    }
    expect(configMaps).toBeGreaterThan(0);
  });

  it('the production overlay holds every object of the base plus the ServiceMonitor, the dashboard, a PodDisruptionBudget and the ingress NetworkPolicy', async () => {
    const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const production = await rendered(PRODUCTION);
    const keys = production.map(key);
    expect(keys).toEqual(expect.arrayContaining((await rendered(join(DEPLOY, 'base'))).map(key)));
    expect(keys).toEqual(
      expect.arrayContaining([
        'ServiceMonitor/prescale-system/prescale',
        'ConfigMap/prescale-system/prescale-grafana-dashboard',
        'PodDisruptionBudget/prescale-system/prescale',
        'NetworkPolicy/prescale-system/prescale-ingress',
      ]),
    );
    const deployment = production.find((o) => o.kind === 'Deployment')!;
    expect((deployment.spec as { replicas: number }).replicas).toBe(2);
  });
});

describe('what the rendered manifests allow', () => {
  // The operator's feature flags and its RBAC must move together: a flag without its right fails at
  // run time, a right without its flag is a grant nothing uses.
  it.each(buildCases)('%s: the operator has the rights its flags need, and no right a flag turned off', async (name, { dir }) => {
    const objects = await rendered(dir, name);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prescale');
    if (!deployment) return;
    const args = containersOf(deployment)[0]!.args ?? [];
    const rights = clusterRightsOf(objects, { namespace: 'prescale-system', name: 'prescale' });
    expect(rights.has('get secrets'), `${name}: get secrets cluster-wide vs --prometheus-auth-secrets`).toBe(args.includes('--prometheus-auth-secrets'));
    for (const verb of ['list', 'watch']) {
      expect(rights.has(`${verb} pods`), `${name}: ${verb} pods vs --no-learn-lead-time`).toBe(!args.includes('--no-learn-lead-time'));
    }
  });

  it('the rights are computed from the rendered roles and bindings (so the check above can fail)', async () => {
    const base = await rendered(BASE);
    const sa = { namespace: 'prescale-system', name: 'prescale' };
    expect([...clusterRightsOf(base, sa)]).toEqual(expect.arrayContaining(['list pods', 'watch pods', 'patch */scale', 'update predictivescalers/status']));
    expect(clusterRightsOf(base, sa).has('get secrets')).toBe(false);
    const withoutBinding = base.filter((o) => !(o.kind === 'ClusterRoleBinding' && o.metadata.name === 'prescale-learned-lead-time'));
    expect(clusterRightsOf(withoutBinding, sa).has('list pods')).toBe(false);
    expect(clusterRightsOf(base, { namespace: 'prescale-system', name: 'someone-else' }).size).toBe(0);
  });

  it.each(buildCases)('%s: every NetworkPolicy selects the operator pods and admits ingress only to the metrics port (and the publishing ports)', async (name, { dir }) => {
    const objects = await rendered(dir, name);
    const podLabels = objects
      .filter((o) => o.kind === 'Deployment' && o.metadata.name === 'prescale')
      .map((d) => (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels);
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      const spec = policy.spec as NetworkPolicySpec;
      for (const labels of podLabels) {
        expect(Object.entries(spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v), `${name}: ${describeObject(policy)} selects the operator pods`).toBe(true);
      }
      for (const rule of spec.ingress ?? []) {
        const ports = rule.ports?.map((p) => p.port);
        // The external metrics API admits any source (the API server's address varies by cluster);
        // each request there must carry the API server's front-proxy client certificate.
        if (policy.metadata.name === 'prescale-publishing' && ports?.length === 1 && ports[0] === 'ext-metrics') {
          expect(rule.from, `${name}: ${describeObject(policy)}`).toBeUndefined();
          continue;
        }
        // A rule without ports or without sources would admit every port, or everyone.
        expect(ports, `${name}: ${describeObject(policy)} ingress ports`).toEqual([policy.metadata.name === 'prescale-publishing' ? 'external-scaler' : 'metrics']);
        expect(rule.from?.length, `${name}: ${describeObject(policy)} ingress sources`).toBeGreaterThan(0);
      }
      for (const rule of spec.egress ?? []) expect(rule.ports?.length, `${name}: ${describeObject(policy)} egress to every port`).toBeGreaterThan(0);
    }
  });
});

interface NetworkPolicySpec {
  podSelector: { matchLabels?: Record<string, string> };
  ingress?: Array<{ from?: unknown[]; ports?: Array<{ port?: string | number }> }>;
  egress?: Array<{ to?: unknown[]; ports?: Array<{ port?: string | number }> }>;
}

interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * "<verb> <resource>" for every right a ServiceAccount gets in every namespace: rules (without
 * resourceNames) of the ClusterRoles that ClusterRoleBindings in `objects` bind it to.
 */
function clusterRightsOf(objects: K8sObject[], sa: { namespace: string; name: string }): Set<string> {
  const bound = objects
    .filter((o) => o.kind === 'ClusterRoleBinding')
    .filter((b) => ((b.subjects ?? []) as Array<{ kind: string; name: string; namespace?: string }>).some((s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace))
    .map((b) => (b.roleRef as { kind: string; name: string }).name);
  const rights = new Set<string>();
  for (const role of objects.filter((o) => o.kind === 'ClusterRole' && bound.includes(o.metadata.name))) {
    for (const rule of (role.rules ?? []) as RbacRule[]) {
      if (rule.resourceNames?.length) continue;
      for (const resource of rule.resources ?? []) for (const verb of rule.verbs) rights.add(`${verb} ${resource}`);
    }
  }
  return rights;
}

describe('the rendered manifests on a real API server (kubectl apply --dry-run=server)', () => {
  let cp: ControlPlane;
  let kubeconfigArgs: string[];

  beforeAll(async () => {
    cp = await startControlPlane();
    await applyManifests(cp.kubeConfig, [join(ROOT, 'crds'), SERVICE_MONITOR_CRD]);
    kubeconfigArgs = [`--kubeconfig=${cp.kubeconfigPath}`];
  });

  afterAll(async () => {
    await cp?.close();
  });

  const dryRunApply = async (objects: K8sObject[]): Promise<RunResult> => serverDryRun(await kubectl(), kubeconfigArgs, objects);


  it.each(buildCases)('%s is accepted', async (name, { dir }) => {
    const objects = await rendered(dir, name);
    const result = await dryRunApply(objects);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // One "<kind>/<name> created|configured (server dry run)" line per object.
    expect(result.stdout.trim().split('\n').filter((line) => line.endsWith('(server dry run)'))).toHaveLength(objects.length);
  });

  // The checks above can fail: the same overlay with one mistake in it is refused.
  type Spec = Record<string, any>;
  it.each<[string, string, (spec: Spec) => void, string]>([
    ['a misspelt ServiceMonitor field', 'ServiceMonitor', (spec) => (spec.endpoints[0].honorLabel = true), 'unknown field "spec.endpoints[0].honorLabel"'],
    ['an unknown Deployment field', 'Deployment', (spec) => (spec.replica = 2), 'unknown field "spec.replica"'],
    ['a Deployment without its selector', 'Deployment', (spec) => delete spec.selector, 'spec.selector: Required value'],
    ['a misspelt NetworkPolicy field', 'NetworkPolicy', (spec) => (spec.ingres = spec.ingress), 'unknown field "spec.ingres"'],
    ['a NetworkPolicy port that no container could name', 'NetworkPolicy', (spec) => (spec.ingress[0].ports[0].port = 'metrics_port'), 'spec.ingress[0].ports[0].port'],
  ])('refuses the production overlay with %s', async (_what, kind, change, message) => {
    const objects = structuredClone(await rendered(PRODUCTION));
    change(objects.find((o) => o.kind === kind)!.spec as Spec);
    const result = await dryRunApply(objects);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});

// ---------------------------------------------------------------------------------------------------
// The Grafana dashboard

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  definition?: string;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const allPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = allPanels.filter((p) => p.type !== 'row');
const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));
const expressions = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, expr: t.expr ?? '' })));
const variableExpressions = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({ panel: `variable ${v.name}`, expr: labelValuesSelector(variableQuery(v)) }));
const GRAFANA_BUILTINS = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms']);
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'atan2', 'inf', 'nan']);

/** `label_values(selector, label)` -> selector; label_values(label) has none. */
function labelValuesSelector(query: string): string {
  const match = /^label_values\((.*),\s*[a-zA-Z_]\w*\s*\)$/.exec(query.trim());
  return match ? match[1]! : '';
}

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, aggregations,
 * keywords, label names (in matchers and grouping clauses), durations or Grafana variables.
 */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{\w+(?::\w+)?\}|\$\w+|\[\[\w+\]\]/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[\w.]+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][\w:]*/g)) {
    const name = match[0];
    const rest = stripped.slice(match.index + name.length);
    if (/^\s*\(/.test(rest) || PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** Grafana variables an expression uses ($name, ${name}, ${name:format}, [[name]]). */
function variablesIn(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** The operator's metric names, and for histograms the series names Prometheus stores. */
async function exportedSeriesNames(): Promise<{ series: Set<string>; prescale: string[] }> {
  const registry = new Registry();
  createOperatorMetrics(registry);
  const metrics = await registry.getMetricsAsJSON();
  const series = new Set<string>();
  for (const m of metrics) {
    series.add(m.name);
    if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(m.name + suffix);
  }
  return { series, prescale: metrics.map((m) => m.name).filter((n) => n.startsWith('prescale_')) };
}

describe('the Grafana dashboard (deploy/grafana/prescale-dashboard.json)', () => {
  it('is a current dashboard: schemaVersion 36 or later, a uid and a title', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
  });

  it('picks its Prometheus from a datasource variable, and namespace and scaler from label_values', () => {
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['namespace', 'scaler']) {
      const v = variables.get(name);
      expect(v, name).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' } });
      expect(variableQuery(v!)).toMatch(new RegExp(`^label_values\\(.*,\\s*${name}\\s*\\)$`));
    }
    // The scaler list follows the namespace selection.
    expect(variableQuery(variables.get('scaler')!)).toContain('$namespace');
  });

  it('gives every panel a title, and every panel and query the datasource variable', () => {
    expect(queryPanels.length).toBeGreaterThan(0);
    for (const p of allPanels) expect(p.title, `panel #${p.id}`).toBeTruthy();
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(t.expr?.trim(), `${p.title} ${t.refId}`).toBeTruthy();
      }
    }
    expect(new Set(allPanels.map((p) => p.id)).size).toBe(allPanels.length);
  });

  it('has the panels operators look for', () => {
    const titles = allPanels.map((p) => p.title ?? '');
    for (const wanted of [/forecast vs observed/i, /desired vs current replicas/i, /model error/i, /fallback/i, /reconcile latency/i, /training/i, /event-loop lag/i, /leader/i]) {
      expect(titles.some((t) => wanted.test(t)), String(wanted)).toBe(true);
    }
  });

  it('finds metric names in PromQL, and only metric names', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, model) (rate(prescale_model_training_duration_seconds_bucket{job="x", le!="+Inf"}[$__rate_interval] offset 5m)))',
      ),
    ).toEqual(['prescale_model_training_duration_seconds_bucket']);
    expect(metricNamesIn('max by (instance) (process_resident_memory_bytes and on (instance) prescale_leader) > bool 1e3')).toEqual([
      'prescale_leader',
      'process_resident_memory_bytes',
    ]);
    expect(metricNamesIn('sum(rate(prescale_scale_action_total{namespace=~"$namespace"}[5m])) / ignoring(direction) up')).toEqual([
      'prescale_scale_action_total',
      'up',
    ]);
  });

  it('queries only metrics the operator registers (histograms through _bucket, _sum and _count)', async () => {
    const { series } = await exportedSeriesNames();
    for (const { panel, expr } of [...expressions, ...variableExpressions]) {
      const names = metricNamesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(series.has(name), `${panel} queries ${name}, which the operator does not export`).toBe(true);
    }
  });

  it('shows every prescale_ metric the operator registers somewhere', async () => {
    const { prescale } = await exportedSeriesNames();
    const used = new Set([...expressions, ...variableExpressions].flatMap(({ expr }) => metricNamesIn(expr)));
    const unused = prescale.filter((name) => ![name, `${name}_bucket`, `${name}_sum`, `${name}_count`].some((s) => used.has(s)));
    expect(unused).toEqual([]);
  });

  it('uses only variables it defines or Grafana provides', () => {
    const defined = new Set([...dashboard.templating.list.map((v) => v.name), ...GRAFANA_BUILTINS]);
    for (const { panel, expr } of [...expressions, ...dashboard.templating.list.map((v) => ({ panel: v.name, expr: variableQuery(v) }))]) {
      for (const name of variablesIn(expr)) expect(defined.has(name), `${panel} uses $${name}`).toBe(true);
    }
  });

  // promtool parses every expression as Prometheus would (Grafana's variables replaced by what they
  // expand to: a regex for the multi-value selections, a duration for $__rate_interval).
  it('is valid PromQL (promtool check rules)', async () => {
    const substituted = expressions.map(({ expr }) =>
      expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '(a|b)'),
    );
    const rules = { groups: [{ name: 'dashboard', rules: substituted.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) }] };
    const dir = mkdtempSync(join(tmpdir(), 'prescale-dashboard-'));
    try {
      const file = join(dir, 'rules.yaml');
      writeFileSync(file, stringify(rules));
      const result = await runCommand('promtool', ['check', 'rules', file]);
      expect(result.stdout + result.stderr).toContain(`SUCCESS: ${substituted.length} rules found`);
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// The GitOps examples

describe('the GitOps examples (examples/gitops)', () => {
  const files = readdirSync(GITOPS).filter((f) => /\.ya?ml$/.test(f)).sort();
  const objects = files.flatMap((f) => parseObjects(readFileSync(join(GITOPS, f), 'utf8'), `examples/gitops/${f}`));
  const repoPath = (p: string): string => join(ROOT, p.replace(/^\.\//, ''));

  it('parse as YAML into Kubernetes objects', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const o of objects) {
      expect(o.apiVersion).toBeTruthy();
      expect(o.kind).toBeTruthy();
      expect(o.metadata.name).toBeTruthy();
    }
  });

  it('an Argo CD Application deploys the production overlay', () => {
    const apps = objects.filter((o) => o.apiVersion === 'argoproj.io/v1alpha1' && o.kind === 'Application');
    const paths = apps.map((a) => (a.spec as { source: { path: string } }).source.path);
    expect(paths).toContain('deploy/overlays/production');
    for (const path of paths) expect(statSync(repoPath(path)).isDirectory(), path).toBe(true);
  });

  it('a Flux Kustomization deploys the production overlay from a GitRepository defined beside it', () => {
    const kustomizations = objects.filter((o) => o.apiVersion === 'kustomize.toolkit.fluxcd.io/v1' && o.kind === 'Kustomization');
    const repositories = objects.filter((o) => o.apiVersion === 'source.toolkit.fluxcd.io/v1' && o.kind === 'GitRepository');
    const specs = kustomizations.map((k) => k.spec as { path: string; sourceRef: { kind: string; name: string } });
    expect(specs.map((s) => repoPath(s.path))).toContain(PRODUCTION);
    for (const spec of specs) {
      expect(statSync(repoPath(spec.path)).isDirectory(), spec.path).toBe(true);
      expect(spec.sourceRef.kind).toBe('GitRepository');
      expect(repositories.map((r) => r.metadata.name)).toContain(spec.sourceRef.name);
    }
  });

  it('every path they deploy renders with kubectl kustomize or holds plain manifests', async () => {
    const paths = objects.flatMap((o) => {
      const spec = o.spec as { path?: string; source?: { path?: string } } | undefined;
      return [spec?.path, spec?.source?.path].filter((p): p is string => typeof p === 'string');
    });
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      const dir = repoPath(path);
      if (KUSTOMIZATION_FILES.some((f) => existsSync(join(dir, f)))) expect((await render(dir)).code, path).toBe(0);
      else expect(readdirSync(dir).some((f) => /\.ya?ml$/.test(f)), path).toBe(true);
    }
  });
});
