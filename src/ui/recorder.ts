// The reconciler's observer for the web view: turns what a reconcile saw into a timeline entry.
import type { ReconcileObservation, ReconcileObserver } from '../controller/reconciler.js';
import { splitKey } from '../controller/reconciler.js';
import { demandChart, DEFAULT_DEMAND_LIMITS, type DemandLimits } from './demand.js';
import type { ReadyReplicas } from './ready-pods.js';
import type { Timeline } from './timeline.js';

export class TimelineRecorder implements ReconcileObserver {
  constructor(
    private readonly timeline: Timeline,
    /** None: pods are not watched (--no-learn-lead-time), so Ready replicas are unknown. */
    private readonly readyReplicas?: ReadyReplicas,
    private readonly demandLimits: DemandLimits = DEFAULT_DEMAND_LIMITS,
  ) {}

  reconciled(key: string, o: ReconcileObservation): void {
    const [namespace] = splitKey(key);
    const ready = o.selector !== undefined ? this.readyReplicas?.(namespace, o.selector) : undefined;
    this.timeline.record(key, {
      time: o.now,
      replicas: o.scaled?.to ?? o.currentReplicas,
      desired: o.desiredReplicas,
      ...(ready !== undefined ? { ready } : {}),
      demand: o.metrics
        .filter((m) => m.history !== undefined || m.forecast !== undefined)
        .map((m) => demandChart({ metric: m.name, quantile: o.planningQuantile, now: o.now, history: m.history, forecast: m.forecast }, this.demandLimits)),
      ...(o.scaled ? { scaled: o.scaled } : {}),
      explanation: o.explanation,
    });
  }

  forget(key: string): void {
    this.timeline.forget(key);
  }
}
