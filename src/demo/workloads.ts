// The repository's examples (examples/web-service, examples/model-serving) as `prescale demo`
// applies them on its KWOK cluster, with the fewest changes that let them run there, each one
// listed for the demo to print:
// - the pod template gets KWOK's start-up annotations (pods never run; KWOK marks them Ready after
//   a delay taken from these annotations, see demo/kwok-stages.yaml);
// - volumes the demo cluster cannot provide (it has no storage) are removed with their mounts;
// - a fixed leadTime measured for the real application is replaced by the demo's start-up;
// - at speed > 1 (the trace replayed faster than real time), the scaler durations that describe
//   the demand's time scale are divided by the speed; durations that describe the pods or the
//   control loop stay wall-clock.
// It also reads off what the demo needs to feed each scaler: the counter its query reads, and the
// demand at which it would reach maxReplicas.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULTS, toScalerConfig } from '../api/config.js';
import { KIND, type PredictiveScaler, type PredictiveScalerSpec } from '../api/types.js';
import { parseDuration, parseQuantity } from '../api/units.js';
import { unquotePromQLString } from '../prometheus/promql-string.js';

export interface DemoWorkloadOptions {
  /** Repository root (where examples/ is). */
  repoRoot: string;
  /**
   * Trace ms per wall ms (1..20). Durations that describe the DEMAND's time scale in the scalers
   * (forecast.history, forecast.seasonality entries when explicit durations, forecast.retrainEvery;
   * history and retrainEvery also when left to their defaults) are divided by speed, rounded to
   * whole minutes (at least 1m); pod start-ups, interval, step, leadTime, horizon, stabilization
   * windows stay wall-clock. At speed 1 nothing changes.
   */
  speed: number;
}

export interface DemoWorkload {
  /** e.g. 'web-service' / 'model-serving' (the examples/ folder). */
  example: string;
  namespace: string;
  deployment: string;
  scaler: string;
  /** The counter the example's query reads, exactly as the exporter must serve it so the query selects it: name and labels. */
  counter: { name: string; labels: Record<string, string> };
  /** The scaler's maxReplicas x targetPerReplica: the demand (per second) at which it would be at maxReplicas. */
  capacityAtMax: number;
  /** Pod start-up to Ready in the demo (ms): min and max of the KWOK delay. */
  startup: { minMs: number; maxMs: number };
  /** Human-readable list of every change made to the example, for the demo to print. */
  changes: string[];
  /** The Kubernetes objects to apply, in order (Namespace first), as plain objects. */
  objects: Record<string, unknown>[];
}

/** The pod annotations demo/kwok-stages.yaml reads the start-up-to-Ready delay from. */
export const POD_READY_DELAY_ANNOTATION = 'pod-ready.stage.kwok.x-k8s.io/delay';
/** Optional: Ready at a uniformly random time between the delay and this. */
export const POD_READY_JITTER_ANNOTATION = 'pod-ready.stage.kwok.x-k8s.io/jitter-delay';

export const MIN_SPEED = 1;
export const MAX_SPEED = 20;

interface Adaptation {
  /** KWOK's start-up to Ready, from `delay` to `jitterDelay` (Go durations), and why these values. */
  startup: { delay: string; jitterDelay: string; why: string };
  /** Pod volumes (with their mounts) the demo cluster cannot provide. */
  volumesToRemove: string[];
  /** Whether the example's fixed scaling.leadTime, measured on the real application, gives way to the demo's start-up. */
  leadTimeFromStartup: boolean;
  /** A concrete value for each label the query matches with a regex, for the exporter to serve. */
  regexLabelValues: Record<string, string>;
}

const ADAPTATIONS: Readonly<Record<string, Adaptation>> = {
  'web-service': {
    startup: { delay: '30s', jitterDelay: '60s', why: 'a web server starts in under a minute' },
    volumesToRemove: [],
    leadTimeFromStartup: false,
    regexLabelValues: {},
  },
  'model-serving': {
    startup: { delay: '120s', jitterDelay: '150s', why: 'loads its model for 2-2.5 minutes' },
    volumesToRemove: ['models'],
    leadTimeFromStartup: true,
    regexLabelValues: { pod: 'ranker-7d9f8-demo' },
  },
};

/** The examples/ folders the demo runs, in the order it applies them. */
export const DEMO_EXAMPLES: readonly string[] = Object.keys(ADAPTATIONS);

const MINUTE_MS = 60_000;

type KubeObject = Record<string, unknown> & { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };

export async function demoWorkloads(options: DemoWorkloadOptions): Promise<DemoWorkload[]> {
  const { repoRoot, speed } = options;
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
    throw new RangeError(`speed must be between ${MIN_SPEED} and ${MAX_SPEED}, got ${speed}`);
  }
  const workloads: DemoWorkload[] = [];
  for (const example of DEMO_EXAMPLES) {
    const objects = [
      ...(await readObjects(join(repoRoot, 'examples', example, 'deployment.yaml'))),
      ...(await readObjects(join(repoRoot, 'examples', example, 'predictivescaler.yaml'))),
    ];
    workloads.push(adaptExample(example, objects, ADAPTATIONS[example]!, speed));
  }
  return workloads;
}

/** All objects of all workloads as one multi-document YAML (for `kubectl apply -f -`). */
export function toYaml(workloads: DemoWorkload[]): string {
  // YAML 1.1 quoting, because kubectl reads YAML 1.1: a string such as "on" or "y" stays a string.
  return workloads
    .flatMap((workload) => workload.objects)
    .map((object) => stringify(object, { version: '1.1' }))
    .join('---\n');
}

async function readObjects(file: string): Promise<KubeObject[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  const objects: KubeObject[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const object: unknown = document.toJSON();
    if (object === null) continue; // an empty document, e.g. after a trailing ---
    if (!isRecord(object)) throw new Error(`${file}: a document is not a Kubernetes object`);
    objects.push(object);
  }
  return objects;
}

function adaptExample(example: string, original: KubeObject[], adaptation: Adaptation, speed: number): DemoWorkload {
  const objects = structuredClone(original);
  const scaler = onlyOne(example, objects, (o) => o.kind === KIND, `a ${KIND}`) as unknown as PredictiveScaler;
  const target = scaler.spec.scaleTargetRef;
  const deployment = onlyOne(
    example,
    objects,
    (o) => o.kind === 'Deployment' && o.metadata?.name === target.name && o.metadata?.namespace === scaler.metadata.namespace,
    `the Deployment ${scaler.metadata.namespace}/${target.name} the scaler targets`,
  );
  const changes: string[] = [];

  const { startup } = adaptation;
  const template = podTemplate(example, deployment);
  template.metadata ??= {};
  template.metadata.annotations = {
    ...template.metadata.annotations,
    [POD_READY_DELAY_ANNOTATION]: startup.delay,
    [POD_READY_JITTER_ANNOTATION]: startup.jitterDelay,
  };
  changes.push(
    `Deployment ${target.name}: KWOK start-up annotations ${POD_READY_DELAY_ANNOTATION}=${startup.delay}, ` +
      `${POD_READY_JITTER_ANNOTATION}=${startup.jitterDelay} (pods turn Ready ${startup.delay}-${startup.jitterDelay} ` +
      `after they start: ${startup.why})`,
  );
  for (const volume of adaptation.volumesToRemove) {
    removeVolume(example, template, volume);
    changes.push(`Deployment ${target.name}: volume ${volume} and its volumeMounts removed (the demo cluster has no storage)`);
  }

  const startupMs = { minMs: parseDuration(startup.delay), maxMs: parseDuration(startup.jitterDelay) };
  const spec = scaler.spec;
  if (adaptation.leadTimeFromStartup) {
    const leadTime = `${Math.ceil(startupMs.maxMs / MINUTE_MS) + 1}m`;
    const was = spec.scaling?.leadTime ?? 'Auto (unset)';
    spec.scaling = { ...spec.scaling, leadTime };
    changes.push(
      `PredictiveScaler ${scaler.metadata.name}: scaling.leadTime ${was} -> ${leadTime} (the example's value is the real ` +
        `start-up to Ready; in the demo pods are Ready after at most ${startup.jitterDelay}: that, rounded up to minutes, + 1m)`,
    );
  }
  if (speed !== 1) changes.push(...scaleDemandDurations(scaler, speed));

  try {
    toScalerConfig(spec);
  } catch (err) {
    throw new Error(`${example}: the demo's PredictiveScaler is invalid: ${(err as Error).message}`);
  }
  if (spec.metrics.length !== 1) {
    throw new Error(`${example}: the demo feeds one counter per scaler, but the scaler has ${spec.metrics.length} metrics`);
  }
  const [metric] = spec.metrics;

  return {
    example,
    namespace: scaler.metadata.namespace,
    deployment: target.name,
    scaler: scaler.metadata.name,
    counter: counterFromQuery(example, metric!.query, adaptation.regexLabelValues),
    capacityAtMax: spec.maxReplicas * parseQuantity(metric!.targetPerReplica),
    startup: startupMs,
    changes,
    // Stable sort: Namespaces first, everything else in the files' order.
    objects: [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace')),
  };
}

function onlyOne(example: string, objects: KubeObject[], test: (o: KubeObject) => boolean, what: string): KubeObject {
  const found = objects.filter(test);
  if (found.length !== 1) throw new Error(`${example}: expected exactly one object that is ${what}, found ${found.length}`);
  return found[0]!;
}

interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: {
    volumes?: Array<{ name: string }>;
    containers?: Array<{ volumeMounts?: Array<{ name: string }> }>;
    initContainers?: Array<{ volumeMounts?: Array<{ name: string }> }>;
  };
}

function podTemplate(example: string, deployment: KubeObject): PodTemplate {
  const template = (deployment.spec as { template?: unknown } | undefined)?.template;
  if (!isRecord(template) || !isRecord(template.spec)) throw new Error(`${example}: the Deployment has no pod template`);
  return template as unknown as PodTemplate;
}

/** Removes pod volume `name` and every container's mount of it; throws if the example has no such volume. */
function removeVolume(example: string, template: PodTemplate, name: string): void {
  const spec = template.spec;
  const volumes = spec.volumes ?? [];
  if (!volumes.some((v) => v.name === name)) {
    throw new Error(`${example}: the Deployment has no volume ${name} to remove; update the demo's adaptation`);
  }
  spec.volumes = volumes.filter((v) => v.name !== name);
  if (spec.volumes.length === 0) delete spec.volumes;
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    if (!container.volumeMounts) continue;
    container.volumeMounts = container.volumeMounts.filter((m) => m.name !== name);
    if (container.volumeMounts.length === 0) delete container.volumeMounts;
  }
}

/**
 * Divides the durations on the demand's time scale by `speed`, writing them as whole minutes.
 * history and retrainEvery are scaled also when unset, since their defaults are on the trace's
 * time scale too: a 6h retrain at speed 20 would retrain once every 120 trace hours.
 */
function scaleDemandDurations(scaler: PredictiveScaler, speed: number): string[] {
  const forecast = (scaler.spec.forecast ??= {});
  const changes: string[] = [];
  const prefix = `PredictiveScaler ${scaler.metadata.name}:`;
  const suffix = `(speed ${speed})`;
  for (const key of ['history', 'retrainEvery'] as const) {
    const was = forecast[key] ?? DEFAULTS[key];
    const shown = forecast[key] === undefined ? `${was} (unset: the default)` : was;
    const scaled = scaledDuration(was, speed);
    if (parseDuration(scaled) === parseDuration(was)) continue;
    forecast[key] = scaled;
    changes.push(`${prefix} forecast.${key} ${shown} -> ${scaled} ${suffix}`);
  }
  if (forecast.seasonality === 'Auto' || forecast.seasonality === undefined) {
    // Auto looks for hour, day and week periods only; the compressed trace has none of them.
    const scaled = AUTO_SEASON_CANDIDATES.map((period) => scaledDuration(period, speed));
    const was = forecast.seasonality === undefined ? 'unset (Auto)' : 'Auto';
    forecast.seasonality = scaled;
    changes.push(`${prefix} forecast.seasonality ${was} -> [${scaled.join(', ')}] ${suffix}: Auto looks for 1h, 1d and 7d periods, which the compressed trace no longer has`);
  } else if (Array.isArray(forecast.seasonality)) {
    const was = forecast.seasonality;
    const scaled = was.map((period) => scaledDuration(period, speed));
    if (scaled.some((period, i) => parseDuration(period) !== parseDuration(was[i]!))) {
      forecast.seasonality = scaled;
      changes.push(`${prefix} forecast.seasonality [${was.join(', ')}] -> [${scaled.join(', ')}] ${suffix}`);
    }
  }
  return changes;
}

/** The periods a real-time trace of web demand has: daily and weekly. */
const AUTO_SEASON_CANDIDATES = ['1d', '7d'];

function scaledDuration(duration: string, speed: number): string {
  return `${Math.max(1, Math.round(parseDuration(duration) / speed / MINUTE_MS))}m`;
}

// ---- The counter a query reads ----

const strictParser = parser.configure({ strict: true });
type SyntaxNode = ReturnType<typeof strictParser.parse>['topNode'];
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The counter `sum(rate(<selector>[<range>]))` reads: its metric name and the labels an exporter
 * must give it for the selector to select it. Equality matchers give their value; a regex matcher
 * takes its value from `regexLabelValues`, checked to match. Throws an Error naming the example and
 * the query for any other query.
 */
export function counterFromQuery(
  example: string,
  query: string,
  regexLabelValues: Record<string, string>,
): DemoWorkload['counter'] {
  function fail(why: string): never {
    throw new Error(`${example}: cannot tell which counter the query ${JSON.stringify(query)} reads: ${why}`);
  }

  let tree: ReturnType<typeof strictParser.parse>;
  try {
    tree = strictParser.parse(query);
  } catch {
    fail('it is not valid PromQL');
  }
  const selectors: SyntaxNode[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) fail('it is not valid PromQL');
      if (ref.name === 'VectorSelector') selectors.push(ref.node);
    },
  });
  if (selectors.length !== 1) fail(`it has ${selectors.length} selectors, the demo serves exactly one`);

  const shape = 'it must be sum(rate(<selector>[<range>]))';
  const sum = onlyChild(tree.topNode);
  if (sum?.name !== 'AggregateExpr' || sum.getChild('AggregateOp')?.firstChild?.name !== 'Sum' || sum.getChild('AggregateModifier')) {
    fail(shape);
  }
  const rate = onlyChild(sum.getChild('FunctionCallBody'));
  if (rate?.name !== 'FunctionCall' || rate.getChild('FunctionIdentifier')?.firstChild?.name !== 'Rate') fail(shape);
  const matrix = onlyChild(rate.getChild('FunctionCallBody'));
  if (matrix?.name !== 'MatrixSelector') fail(shape);
  const selector = matrix.getChild('VectorSelector')!;

  const text = (node: SyntaxNode) => query.slice(node.from, node.to);
  const decoded = (node: SyntaxNode): string => {
    const literal = node.name === 'StringLiteral' ? node : node.getChild('StringLiteral')!;
    const result = unquotePromQLString(text(literal));
    if (!result.ok) fail(`string ${text(literal)}: ${result.reason}`);
    try {
      return UTF8.decode(result.bytes);
    } catch {
      fail(`string ${text(literal)} is not UTF-8`);
    }
  };

  let name = selector.getChild('Identifier') ? text(selector.getChild('Identifier')!) : undefined;
  const labels: Record<string, string> = {};
  const matchers = selector.getChild('LabelMatchers');
  for (let matcher = matchers?.firstChild; matcher; matcher = matcher.nextSibling) {
    if (matcher.name === 'QuotedLabelName') {
      name = decoded(matcher); // {"metric.name", ...}
      continue;
    }
    if (matcher.name !== 'UnquotedLabelMatcher' && matcher.name !== 'QuotedLabelMatcher') continue;
    const labelNode = matcher.firstChild!;
    const label = labelNode.name === 'LabelName' ? text(labelNode) : decoded(labelNode);
    const operator = matcher.getChild('MatchOp')!.firstChild!.name;
    const value = decoded(matcher.lastChild!);
    if (operator === 'EqlSingle') {
      if (label === '__name__') name = value;
      else labels[label] = value;
    } else if (operator === 'EqlRegex' && label !== '__name__') {
      const concrete = regexLabelValues[label];
      if (concrete === undefined) fail(`no concrete value is configured for the regex matcher on ${label}`);
      if (!fullyMatches(value, concrete)) {
        fail(`the concrete value ${JSON.stringify(concrete)} for ${label} does not match ${JSON.stringify(value)}`);
      }
      labels[label] = concrete;
    } else {
      fail(`the matcher ${text(matcher)} is not mapped to a label value (only = and =~ are)`);
    }
  }
  if (name === undefined) fail('the selector names no metric');
  return { name, labels };
}

/** Whether the anchored regex matches `text`, with JavaScript's engine rather than Prometheus' RE2: close enough for the demo's own table. */
function fullyMatches(regex: string, text: string): boolean {
  try {
    return new RegExp(`^(?:${regex})$`).test(text);
  } catch {
    return false;
  }
}

/** The single child of `node` but comments (looking through parentheses), or undefined when it has none or several. */
function onlyChild(node: SyntaxNode | null | undefined): SyntaxNode | undefined {
  const children: SyntaxNode[] = [];
  for (let child = node?.firstChild; child; child = child.nextSibling) {
    if (child.name !== 'LineComment') children.push(child);
  }
  if (children.length !== 1) return undefined;
  const [child] = children;
  return child!.name === 'ParenExpr' ? onlyChild(child) : child;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
