// Writes a PredictiveScaler's status through the status subresource with optimistic concurrency:
// on 409 Conflict it re-reads the object and recomputes the status against the fresh copy
// (client-go's RetryOnConflict), so a concurrent writer never makes a decision get lost.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler, type PredictiveScalerStatus } from '../api/types.js';
import { isConflict, isNotFound } from './errors.js';

/** Computes the status to write against the current object; undefined means nothing changed. */
export type StatusComputer = (current: PredictiveScaler) => PredictiveScalerStatus | undefined;

export interface StatusWriter {
  /** Returns true when a write happened. */
  update(scaler: PredictiveScaler, compute: StatusComputer): Promise<boolean>;
}

export class KubeStatusWriter implements StatusWriter {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig, private readonly attempts = 4) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async update(scaler: PredictiveScaler, compute: StatusComputer): Promise<boolean> {
    const { namespace, name } = scaler.metadata;
    let current = scaler;
    for (let attempt = 1; ; attempt++) {
      const status = compute(current);
      if (status === undefined) return false;
      try {
        await this.api.replaceNamespacedCustomObjectStatus({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name,
          body: { ...current, status },
          fieldManager: 'prescale',
        });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false; // deleted meanwhile: nothing to report on
        if (!isConflict(err) || attempt >= this.attempts) throw err;
        current = (await this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as PredictiveScaler;
      }
    }
  }
}
