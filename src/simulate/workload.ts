// The simulated workload of SPEC section 6: a requested replica becomes Ready `startupDelayMs` after
// it is requested; a removed replica goes at once, not-Ready ones first (as a ReplicaSet deletes).

/** Pods requested at the same instant: they become Ready together. */
interface Cohort {
  readyAt: number;
  count: number;
}

/**
 * Pods are kept as cohorts, oldest request first, not one entry per pod: a spec may allow billions of
 * replicas, and what a tick costs must not grow with the count. Cohorts that are Ready by the latest
 * query are merged, so the list holds only the requests still starting plus one.
 */
export class SimulatedWorkload {
  private cohorts: Cohort[] = [];
  private replicas = 0;
  scaleEvents = 0;

  constructor(
    private readonly startupDelayMs: number,
    initialReplicas: number,
    start: number,
  ) {
    if (initialReplicas > 0) this.cohorts.push({ readyAt: start, count: initialReplicas });
    this.replicas = Math.max(0, initialReplicas);
  }

  get specReplicas(): number {
    return this.replicas;
  }

  readyPods(now: number): number {
    // Ready-at times only grow along the list: the Ready cohorts are a prefix, merged into one.
    let ready = 0;
    let k = 0;
    while (k < this.cohorts.length && this.cohorts[k]!.readyAt <= now) ready += this.cohorts[k++]!.count;
    if (k > 1) this.cohorts.splice(0, k, { readyAt: this.cohorts[k - 1]!.readyAt, count: ready });
    return ready;
  }

  scaleTo(replicas: number, now: number): void {
    const target = Math.max(0, replicas);
    if (replicas === this.replicas) return;
    this.scaleEvents++;
    if (target > this.replicas) {
      this.cohorts.push({ readyAt: now + this.startupDelayMs, count: target - this.replicas });
    } else {
      // The youngest requests are the least ready: removing from the end removes not-Ready pods first.
      let remove = this.replicas - target;
      while (remove > 0) {
        const last = this.cohorts[this.cohorts.length - 1]!;
        const taken = Math.min(remove, last.count);
        last.count -= taken;
        remove -= taken;
        if (last.count === 0) this.cohorts.pop();
      }
    }
    this.replicas = target;
  }
}
