// events.k8s.io/v1 Events about a PredictiveScaler. Identical notes within a short window are not
// repeated, so a scaler stuck in one bad state does not flood the namespace.
import { randomBytes } from 'node:crypto';
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, KIND, type PredictiveScaler } from '../api/types.js';
import { apiErrorMessage } from './errors.js';

export interface ScalerEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export interface EventRecorder {
  record(scaler: PredictiveScaler, event: ScalerEvent): Promise<void>;
}

export const REPORTING_CONTROLLER = 'autoscaling.prescale.dev/operator';

/** Unique per event, like client-go's `<object>.<unix nanoseconds in hex>`. */
export function eventName(objectName: string, timeMs: number): string {
  const suffix = `.${(BigInt(timeMs) * 1_000_000n).toString(16)}${randomBytes(2).toString('hex')}`;
  // An object name may use all 253 characters; the Event's name must fit in them with the suffix.
  const prefix = objectName.slice(0, MAX_NAME_LENGTH - suffix.length).replace(/[-.]+$/, '');
  return `${prefix}${suffix}`;
}

const MAX_NAME_LENGTH = 253;

export class KubeEventRecorder implements EventRecorder {
  private readonly api: EventsV1Api;
  private readonly recent = new Map<string, number>();

  constructor(
    kc: KubeConfig,
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly dedupeMs = 10 * 60_000,
  ) {
    this.api = kc.makeApiClient(EventsV1Api);
  }

  async record(scaler: PredictiveScaler, event: ScalerEvent): Promise<void> {
    const { namespace, name, uid } = scaler.metadata;
    const key = `${namespace}/${name}/${event.reason}/${event.note}`;
    const t = this.now();
    const last = this.recent.get(key);
    if (last !== undefined && t - last < this.dedupeMs) return;
    this.recent.set(key, t);
    if (this.recent.size > 10_000) this.pruneOlderThan(t - this.dedupeMs);
    try {
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName(name, t), namespace },
          eventTime: new V1MicroTime(t),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: this.instance,
          action: event.action,
          reason: event.reason,
          note: event.note.slice(0, 1024),
          type: event.type,
          regarding: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid },
        },
      });
    } catch (err) {
      this.recent.delete(key);
      this.logger.warn({ namespace, scaler: name, reason: event.reason, err: apiErrorMessage(err) }, 'could not record event');
    }
  }

  private pruneOlderThan(cutoff: number): void {
    for (const [k, t] of this.recent) if (t < cutoff) this.recent.delete(k);
  }
}
