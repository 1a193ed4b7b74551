// Keeps trained models across operator restarts: one ConfigMap per PredictiveScaler, in its
// namespace and owned by it (so Kubernetes garbage-collects it with the scaler), with one gzipped
// envelope per metric in binaryData. The metrics of one scaler train and save independently, so
// writes to one ConfigMap are queued within this store, and are read-modify-write on resourceVersion,
// retried on conflict, against any other writer (another operator replica, a user with kubectl).
// Entries are signed with the operator's key (model-signing-key.ts); one that does not verify is
// removed and reported as discarded, so the model trains afresh.
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1ObjectMeta, type V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND } from '../api/types.js';
import { apiErrorMessage, isConflict, isForbidden, isNotFound } from './errors.js';
import {
  configMapDataBytes,
  decodeEntry,
  encodeEntry,
  entryKey,
  modelConfigMapName,
  scalerLabelValue,
  type EntryBinding,
  type ModelRecord,
} from './model-envelope.js';
import type { SigningKeySource } from './model-signing-key.js';

export type { ModelRecord } from './model-envelope.js';

export interface ScalerRef {
  namespace: string;
  name: string;
  uid: string;
}

export type LoadResult = { record: ModelRecord; savedAt: string } | { discarded: string } | { missing: true };
export type SaveResult = { saved: true; bytes: number } | { skipped: string };

export interface ModelStore {
  load(scaler: ScalerRef, metric: string): Promise<LoadResult>;
  save(scaler: ScalerRef, metric: string, record: ModelRecord): Promise<SaveResult>;
  /** Removes a metric's entry, e.g. one the forecaster refused to import; the reason is kept on the ConfigMap. */
  discard(scaler: ScalerRef, metric: string, reason: string): Promise<void>;
}

export interface ModelStoreOptions {
  /** Written into every entry, to tell which operator wrote a model. */
  operatorVersion: string;
  /** The HMAC key entries are signed and verified with. */
  signingKey: SigningKeySource;
  /** Largest compressed entry saved. Default 256 KiB. */
  maxEntryBytes?: number;
  /** Largest ConfigMap data (all entries) written; the API server refuses more than 1 MiB. Default 900 KiB. */
  maxConfigMapBytes?: number;
  now?: () => Date;
  /** Read-modify-write attempts before a run of conflicts is reported as an error. Default 5. */
  attempts?: number;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'prescale';
export const SCALER_LABEL = `${GROUP}/scaler`;
/** The latest discarded entry and why, for whoever looks at the ConfigMap. */
export const LAST_DISCARD_ANNOTATION = `${GROUP}/last-discarded-model`;

const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024;
const DEFAULT_MAX_CONFIG_MAP_BYTES = 900 * 1024;
const MAX_ANNOTATION_LENGTH = 1024;
const RBAC_HINT =
  "the operator's ServiceAccount needs get, create, update and delete on configmaps (see the configmaps rule in deploy/base/clusterrole.yaml)";

/** A 403 on the model ConfigMap; `code` keeps it recognisable to apiStatusCode()/isForbidden(). */
export class ModelStoreForbiddenError extends Error {
  readonly code = 403;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'ModelStoreForbiddenError';
  }
}

/** How a ConfigMap of the model name relates to the scaler asking. */
type Ownership = 'ours' | 'previous-scaler' | 'not-prescale';

export class ConfigMapModelStore implements ModelStore {
  private readonly core: CoreV1Api;
  private readonly maxEntryBytes: number;
  private readonly maxConfigMapBytes: number;
  private readonly now: () => Date;
  private readonly attempts: number;
  /** Tail of the write queue of each ConfigMap (namespace/name) with writes in flight. */
  private readonly writeQueues = new Map<string, Promise<unknown>>();

  constructor(kubeConfig: KubeConfig, private readonly options: ModelStoreOptions) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    this.maxConfigMapBytes = options.maxConfigMapBytes ?? DEFAULT_MAX_CONFIG_MAP_BYTES;
    this.now = options.now ?? (() => new Date());
    this.attempts = options.attempts ?? 5;
  }

  async load(scaler: ScalerRef, metric: string): Promise<LoadResult> {
    const key = entryKey(metric);
    const configMap = await this.read(scaler);
    if (!configMap) return { missing: true };
    const ownership = ownershipOf(configMap, scaler);
    if (ownership === 'not-prescale') {
      return { discarded: `${configMapRef(scaler)} exists but is not managed by prescale; left untouched` };
    }
    if (ownership === 'previous-scaler') {
      const reason = `${configMapRef(scaler)} belongs to an earlier PredictiveScaler of the same name (owner uid ${ownerUid(configMap) ?? 'none'}, this scaler is ${scaler.uid})`;
      return { discarded: reason + (await this.deleteStale(scaler, configMap)) };
    }
    const stored = configMap.binaryData?.[key];
    if (stored === undefined) return { missing: true };
    const decoded = await decodeEntry(Buffer.from(stored, 'base64'), await this.options.signingKey.key(), bindingOf(scaler, metric));
    if (decoded.ok) return { record: decoded.record, savedAt: decoded.savedAt };
    const reason = `model for metric ${metric} in ${configMapRef(scaler)}: ${decoded.reason}`;
    try {
      await this.removeEntry(scaler, metric, reason, stored);
      return { discarded: reason };
    } catch (err) {
      return { discarded: `${reason} (could not remove it: ${(err as Error).message})` };
    }
  }

  async save(scaler: ScalerRef, metric: string, record: ModelRecord): Promise<SaveResult> {
    const key = entryKey(metric);
    const meta = { operatorVersion: this.options.operatorVersion, savedAt: this.now().toISOString() };
    const entry = await encodeEntry(record, meta, await this.options.signingKey.key(), bindingOf(scaler, metric));
    if (entry.length > this.maxEntryBytes) {
      return { skipped: `model for metric ${metric} is ${entry.length} bytes compressed, over the ${this.maxEntryBytes}-byte limit per entry; not saved` };
    }
    return this.queued(scaler, () => this.writeEntry(scaler, metric, key, entry));
  }

  async discard(scaler: ScalerRef, metric: string, reason: string): Promise<void> {
    await this.removeEntry(scaler, metric, `model for metric ${metric}: ${reason}`);
  }

  private async writeEntry(scaler: ScalerRef, metric: string, key: string, entry: Buffer): Promise<SaveResult> {
    const encoded = entry.toString('base64');
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(scaler);
      const ownership = current ? ownershipOf(current, scaler) : undefined;
      if (ownership === 'not-prescale') {
        return { skipped: `${configMapRef(scaler)} exists but is not managed by prescale; model for metric ${metric} not saved` };
      }
      // An earlier scaler's models are worthless to this one: start the ConfigMap afresh.
      const kept = ownership === 'ours' ? current : undefined;
      const next: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: this.metadataFor(scaler, current?.metadata),
        ...(kept?.data ? { data: kept.data } : {}),
        binaryData: { ...kept?.binaryData, [key]: encoded },
      };
      const total = configMapDataBytes(next);
      if (total > this.maxConfigMapBytes) {
        return {
          skipped: `saving model for metric ${metric} (${entry.length} bytes compressed) would make ${configMapRef(scaler)} ${total} bytes, over its ${this.maxConfigMapBytes}-byte limit; not saved`,
        };
      }
      try {
        await this.write(scaler, next, current !== undefined);
        return { saved: true, bytes: entry.length };
      } catch (err) {
        // 409: a concurrent writer got there first (Conflict on update, AlreadyExists on create);
        // 404 on update: deleted meanwhile. Either way, read again and redo the change.
        if (!(isConflict(err) || (current && isNotFound(err))) || attempt >= this.attempts) throw this.explain(err, current ? 'update' : 'create', scaler);
      }
    }
  }

  /**
   * Removes a metric's entry and notes why on the ConfigMap. With `onlyIfStill`, leaves the entry
   * alone once it no longer holds those bytes: a concurrent save has replaced the bad model.
   */
  private async removeEntry(scaler: ScalerRef, metric: string, reason: string, onlyIfStill?: string): Promise<void> {
    const key = entryKey(metric);
    await this.queued(scaler, () => this.removeKey(scaler, key, reason, onlyIfStill));
  }

  private async removeKey(scaler: ScalerRef, key: string, reason: string, onlyIfStill: string | undefined): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(scaler);
      const stored = current?.binaryData?.[key];
      if (!current || stored === undefined || ownershipOf(current, scaler) !== 'ours') return;
      if (onlyIfStill !== undefined && stored !== onlyIfStill) return;
      const { [key]: _removed, ...binaryData } = current.binaryData ?? {};
      const annotations = { ...current.metadata?.annotations, [LAST_DISCARD_ANNOTATION]: this.discardNote(reason) };
      try {
        await this.write(scaler, { ...current, metadata: { ...current.metadata, annotations }, binaryData }, true);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= this.attempts) throw this.explain(err, 'update', scaler);
      }
    }
  }

  /**
   * Runs writes to one ConfigMap one after another: concurrent saves of a scaler's metrics would
   * otherwise mostly conflict with each other and could run out of retries.
   */
  private async queued<T>(scaler: ScalerRef, write: () => Promise<T>): Promise<T> {
    const queueKey = `${scaler.namespace}/${modelConfigMapName(scaler.name)}`;
    const previous = this.writeQueues.get(queueKey) ?? Promise.resolve(); // never rejects
    const run = previous.then(write);
    const tail = run.catch(() => undefined);
    this.writeQueues.set(queueKey, tail);
    try {
      return await run;
    } finally {
      if (this.writeQueues.get(queueKey) === tail) this.writeQueues.delete(queueKey);
    }
  }

  /** Best effort: deletes only the exact object read, so a ConfigMap re-owned meanwhile survives. */
  private async deleteStale(scaler: ScalerRef, stale: V1ConfigMap): Promise<string> {
    try {
      await this.core.deleteNamespacedConfigMap({
        name: modelConfigMapName(scaler.name),
        namespace: scaler.namespace,
        body: { preconditions: { uid: stale.metadata?.uid, resourceVersion: stale.metadata?.resourceVersion } },
      });
      return '; deleted it';
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return '';
      return ` (could not delete it: ${this.explain(err, 'delete', scaler).message})`;
    }
  }

  private async read(scaler: ScalerRef): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: modelConfigMapName(scaler.name), namespace: scaler.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.explain(err, 'get', scaler);
    }
  }

  private async write(scaler: ScalerRef, body: V1ConfigMap, exists: boolean): Promise<void> {
    const name = modelConfigMapName(scaler.name);
    if (exists) {
      await this.core.replaceNamespacedConfigMap({ name, namespace: scaler.namespace, body, fieldManager: MANAGED_BY });
    } else {
      await this.core.createNamespacedConfigMap({ namespace: scaler.namespace, body, fieldManager: MANAGED_BY });
    }
  }

  /**
   * Our labels and owner on top of the metadata the object already has (a PUT must carry finalizers
   * and the like along); its resourceVersion makes the update conditional.
   */
  private metadataFor(scaler: ScalerRef, current: V1ObjectMeta | undefined): V1ObjectMeta {
    return {
      ...current,
      name: modelConfigMapName(scaler.name),
      namespace: scaler.namespace,
      labels: { ...current?.labels, [MANAGED_BY_LABEL]: MANAGED_BY, [SCALER_LABEL]: scalerLabelValue(scaler.name) },
      ownerReferences: [ownerReferenceTo(scaler)],
    };
  }

  private discardNote(reason: string): string {
    const note = `${this.now().toISOString()} ${reason}`;
    return note.length <= MAX_ANNOTATION_LENGTH ? note : `${note.slice(0, MAX_ANNOTATION_LENGTH - 1)}…`;
  }

  private explain(err: unknown, verb: string, scaler: ScalerRef): Error {
    if (!isForbidden(err)) return err instanceof Error ? err : new Error(String(err));
    return new ModelStoreForbiddenError(`forbidden to ${verb} ${configMapRef(scaler)}: ${apiErrorMessage(err)}; ${RBAC_HINT}`, { cause: err });
  }
}

export function ownerReferenceTo(scaler: ScalerRef): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: scaler.name, uid: scaler.uid, controller: false, blockOwnerDeletion: false };
}

function ownershipOf(configMap: V1ConfigMap, scaler: ScalerRef): Ownership {
  const uid = ownerUid(configMap);
  if (uid === scaler.uid) return 'ours';
  if (uid !== undefined || configMap.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) return 'previous-scaler';
  return 'not-prescale';
}

function ownerUid(configMap: V1ConfigMap): string | undefined {
  const owner = configMap.metadata?.ownerReferences?.find((ref) => ref.kind === KIND && ref.apiVersion.split('/')[0] === GROUP);
  return owner?.uid;
}

function bindingOf(scaler: ScalerRef, metric: string): EntryBinding {
  return { namespace: scaler.namespace, scaler: scaler.name, uid: scaler.uid, metric };
}

function configMapRef(scaler: ScalerRef): string {
  return `ConfigMap ${scaler.namespace}/${modelConfigMapName(scaler.name)}`;
}
