// Writes a PredictiveScaler's status through the status subresource with optimistic concurrency:
// on 409 Conflict it re-reads the object and recomputes the status against the fresh copy
// (client-go's RetryOnConflict), so a concurrent writer never makes a decision get lost.
//
// Optimism alone can be starved: anyone who may patch the object (a label, say) every few
// milliseconds makes every read-modify-write conflict, and the scaler would never report again.
// After the last conflicting attempt the status computed from the freshest read is therefore
// written without a resourceVersion precondition, as a JSON Patch that replaces status whole.
// The operator owns status, so the last writer winning there loses nothing another party may set.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler, type PredictiveScalerStatus } from '../api/types.js';
import { isConflict, isNotFound } from './errors.js';

/** Computes the status to write against the current object; undefined means nothing changed. */
export type StatusComputer = (current: PredictiveScaler) => PredictiveScalerStatus | undefined;

export interface StatusWriter {
  /** Returns true when a write happened. */
  update(scaler: PredictiveScaler, compute: StatusComputer): Promise<boolean>;
}

const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export class KubeStatusWriter implements StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly attempts: number;

  /** @param attempts optimistic writes before the unconditional one (at least 1). */
  constructor(kc: KubeConfig, attempts = 4) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.attempts = Math.max(1, Math.floor(attempts));
  }

  async update(scaler: PredictiveScaler, compute: StatusComputer): Promise<boolean> {
    const { namespace, name } = scaler.metadata;
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace, name };
    let current = scaler;
    for (let attempt = 1; ; attempt++) {
      const status = compute(current);
      if (status === undefined) return false;
      try {
        if (attempt > this.attempts) {
          // RFC 6902: `add` on a member that exists replaces it, so this works with or without a status.
          await this.api.patchNamespacedCustomObjectStatus({ ...ref, body: [{ op: 'add', path: '/status', value: status }], fieldManager: 'prescale' }, JSON_PATCH);
        } else {
          await this.api.replaceNamespacedCustomObjectStatus({ ...ref, body: { ...current, status }, fieldManager: 'prescale' });
        }
        return true;
      } catch (err) {
        if (isNotFound(err)) return false; // deleted meanwhile: nothing to report on
        if (!isConflict(err) || attempt > this.attempts) throw err;
        current = (await this.api.getNamespacedCustomObject(ref)) as PredictiveScaler;
      }
    }
  }
}
