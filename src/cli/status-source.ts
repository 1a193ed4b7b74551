// What `prescale status` reads from the API server: the PredictiveScalers of one namespace (or all),
// a page at a time so that memory is bounded by the page size whatever the statuses hold, and the
// Ready replicas of each apps/v1 Deployment or StatefulSet target, where the caller may read it.
import { AppsV1Api, CustomObjectsApi, Observable, type KubeConfig, type ObservableMiddleware } from '@kubernetes/client-node';
import { OBJECT_NAME_PATTERN } from '../api/names.js';
import { GROUP, PLURAL, VERSION } from '../api/types.js';
import { apiErrorMessage, apiStatusCode } from '../kube/errors.js';
import { sanitize, statusRow, type StatusRow } from './status.js';

export interface StatusQuery {
  /** undefined: every namespace. */
  namespace?: string;
  /** Aborts every request (the command's deadline). */
  signal: AbortSignal;
  /** Scalers per list request. */
  pageSize?: number;
  /** Target reads in flight at once. */
  concurrency?: number;
}

const DEFAULT_PAGE_SIZE = 50;
const DEFAULT_CONCURRENCY = 8;
const OBJECT_NAME = new RegExp(OBJECT_NAME_PATTERN);
const READY_KINDS = new Set(['Deployment', 'StatefulSet']);

/** Lets a request be cancelled: client-node has no per-call timeout of its own. */
function abortable(signal: AbortSignal) {
  const middleware: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' as const };
}

/** The rows of every PredictiveScaler the query selects, in the API server's order. */
export async function readStatusRows(kc: KubeConfig, query: StatusQuery): Promise<StatusRow[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const options = abortable(query.signal);
  const where = query.namespace === undefined ? 'in any namespace' : `in namespace ${sanitize(query.namespace)}`;
  const rows: StatusRow[] = [];
  let continueToken: string | undefined;
  do {
    let page: { items?: unknown[]; metadata?: { continue?: string } };
    try {
      const request = { group: GROUP, version: VERSION, plural: PLURAL, limit: query.pageSize ?? DEFAULT_PAGE_SIZE, _continue: continueToken };
      page = query.namespace === undefined
        ? await custom.listClusterCustomObject(request, options)
        : await custom.listNamespacedCustomObject({ ...request, namespace: query.namespace }, options);
    } catch (err) {
      throw listError(err, where, kc, query.signal);
    }
    const items = Array.isArray(page.items) ? page.items : [];
    rows.push(...(await mapLimited(items, query.concurrency ?? DEFAULT_CONCURRENCY, async (item) => statusRow(item, await readyReplicas(apps, item, options)))));
    // A target read cut short by the deadline shows as "-": fail instead of printing that.
    if (query.signal.aborted) throw timeoutError(kc);
    const next = page.metadata?.continue;
    continueToken = typeof next === 'string' && next !== '' ? next : undefined;
  } while (continueToken);
  return rows;
}

/**
 * status.readyReplicas of the target when it is an apps/v1 Deployment or StatefulSet; undefined for
 * other kinds, and when the target cannot be read (missing, or RBAC forbids it).
 */
async function readyReplicas(apps: AppsV1Api, scaler: unknown, options: ReturnType<typeof abortable>): Promise<number | undefined> {
  const s = scaler as { metadata?: { namespace?: unknown }; spec?: { scaleTargetRef?: { apiVersion?: unknown; kind?: unknown; name?: unknown } } };
  const namespace = s.metadata?.namespace;
  const ref = s.spec?.scaleTargetRef;
  if (typeof namespace !== 'string' || ref?.apiVersion !== 'apps/v1' || typeof ref.kind !== 'string' || !READY_KINDS.has(ref.kind)) return undefined;
  if (typeof ref.name !== 'string' || ref.name.length > 253 || !OBJECT_NAME.test(ref.name)) return undefined;
  try {
    const target =
      ref.kind === 'Deployment'
        ? await apps.readNamespacedDeployment({ namespace, name: ref.name }, options)
        : await apps.readNamespacedStatefulSet({ namespace, name: ref.name }, options);
    return target.status?.readyReplicas ?? 0;
  } catch {
    return undefined;
  }
}

const serverOf = (kc: KubeConfig) => sanitize(kc.getCurrentCluster()?.server ?? 'the API server');

function timeoutError(kc: KubeConfig): Error {
  return new Error(`${serverOf(kc)} did not answer in time; check the cluster, or raise --request-timeout`);
}

function listError(err: unknown, where: string, kc: KubeConfig, signal: AbortSignal): Error {
  if (signal.aborted) return timeoutError(kc);
  const server = serverOf(kc);
  const code = apiStatusCode(err);
  const message = sanitize(apiErrorMessage(err), 300);
  if (code === 404) return new Error(`the API server does not serve ${PLURAL}.${GROUP}: install the CRD (kubectl apply -f crds/)`);
  if (code === 401) return new Error(`${server} refused the credentials of the current context: ${message}`);
  if (code === 403) return new Error(`not allowed to list PredictiveScalers ${where}: ${message}`);
  if (code !== undefined) return new Error(`listing PredictiveScalers ${where}: HTTP ${code}: ${message}`);
  return new Error(`cannot reach ${server}: ${message}`);
}

/** `fn` over every item with at most `limit` calls in flight, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
