// Applying YAML manifests to a test control plane: server-side apply of every document, with
// Namespaces and CRDs first (and CRDs waited on until Established), plus a minimal reader for
// kustomize bases that only list `resources:`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';

export const FIELD_MANAGER = 'prescale-tests';

/**
 * Reads manifests from YAML text, files or directories (every *.yaml / *.yml in it, sorted). A string
 * without a newline that names an existing path is read from disk; anything else is YAML text.
 */
export function readManifests(source: string | string[]): KubernetesObject[] {
  const sources = Array.isArray(source) ? source : [source];
  return sources.flatMap((s) => parseYaml(isPath(s) ? readPath(s) : s, isPath(s) ? s : 'inline YAML'));
}

/**
 * Creates or updates every object (server-side apply, forced), Namespaces and CRDs first. Returns
 * the objects as the API server stored them. Objects passed in directly must use the client's model
 * field names (as loadAllYaml returns them); they differ from the JSON names only in CRD schemas.
 */
export async function applyManifests<T extends KubernetesObject>(
  kc: KubeConfig,
  source: string | string[] | readonly T[],
): Promise<KubernetesObject[]> {
  const objects: KubernetesObject[] = isObjectList(source) ? [...source] : readManifests(source as string | string[]);
  const applied: KubernetesObject[] = [];
  const first = objects.filter((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition');
  const rest = objects.filter((o) => !first.includes(o));
  for (const obj of first) applied.push(await applyObject(kc, obj));
  for (const crd of first.filter((o) => o.kind === 'CustomResourceDefinition')) {
    await waitForCrdEstablished(kc, crd.metadata!.name!);
  }
  // A fresh client per batch: its discovery cache must see CRDs installed just above.
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of rest) applied.push(await applyObject(kc, obj, client));
  return applied;
}

async function applyObject(kc: KubeConfig, obj: KubernetesObject, client = KubernetesObjectApi.makeApiClient(kc)): Promise<KubernetesObject> {
  const where = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
  try {
    return await client.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  } catch (err) {
    throw new Error(`applying ${where}: ${describeApiError(err)}`);
  }
}

/** Polls a CRD until its Established condition is True. */
export async function waitForCrdEstablished(kc: KubeConfig, name: string, timeoutMs = 20_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const established = crd.status?.conditions?.find((c) => c.type === 'Established');
    if (established?.status === 'True') return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms: ${JSON.stringify(crd.status?.conditions)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The objects of a kustomize base whose kustomization.yaml only lists `resources:` (files, or
 * directories that are bases themselves). `images:` is ignored: it changes nothing the API server
 * validates. Any other transformer is refused rather than silently skipped.
 */
export function readKustomization(dir: string): KubernetesObject[] {
  const file = join(dir, 'kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const supported = new Set(['apiVersion', 'kind', 'resources', 'images']);
  const unsupported = Object.keys(kustomization).filter((k) => !supported.has(k));
  if (unsupported.length) throw new Error(`${file}: unsupported kustomization fields ${unsupported.join(', ')}`);
  const resources = (kustomization.resources ?? []) as string[];
  return resources.flatMap((entry) => {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) return readKustomization(path);
    return parseYaml(readFileSync(path, 'utf8'), path);
  });
}

/** Applies every resource of a kustomize base (see readKustomization). */
export async function applyKustomization(kc: KubeConfig, dir: string): Promise<KubernetesObject[]> {
  return applyManifests(kc, readKustomization(dir));
}

/** The API server's message from a client-node error, or the error's own message. */
export function describeApiError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number' && e.body !== undefined) {
    const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const message = (body as { message?: string } | undefined)?.message;
    return `HTTP ${e.code}: ${message ?? (typeof e.body === 'string' ? e.body : JSON.stringify(e.body))}`;
  }
  return e?.message ?? String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// client-node's loader, not a plain YAML parser: KubernetesObjectApi serializes through the client's
// typed models, which read fields such as x-kubernetes-validations under their model names and would
// silently drop them from a plain object.
function parseYaml(text: string, origin: string): KubernetesObject[] {
  let documents: unknown[];
  try {
    documents = loadAllYaml(text);
  } catch (err) {
    throw new Error(`${origin}: ${(err as Error).message}`);
  }
  return (
    documents
      .filter((o): o is KubernetesObject => o !== null && typeof o === 'object' && 'kind' in o)
      // kustomization.yaml files are build instructions, not objects for the API server.
      .filter((o) => o.kind !== 'Kustomization')
  );
}

function isPath(s: string): boolean {
  return !s.includes('\n') && existsSync(s);
}

function readPath(path: string): string {
  if (!statSync(path).isDirectory()) return readFileSync(path, 'utf8');
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => readFileSync(join(path, f), 'utf8'))
    .join('\n---\n');
}

function isObjectList<T extends KubernetesObject>(source: string | string[] | readonly T[]): source is readonly T[] {
  return Array.isArray(source) && source.length > 0 && typeof source[0] === 'object';
}

/** Creates the smallest valid PredictiveScaler of Deployment `target` and returns it as stored. */
export async function createMinimalScaler(kc: KubeConfig, namespace: string, name: string, target = 'web'): Promise<PredictiveScaler> {
  return (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'PredictiveScaler',
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
        maxReplicas: 10,
        metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' }],
      },
    },
  })) as PredictiveScaler;
}
