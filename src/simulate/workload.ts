// The simulated workload of SPEC section 6: a requested replica becomes Ready `startupDelayMs` after
// it is requested; a removed replica goes at once, not-Ready ones first (as a ReplicaSet deletes).

export class SimulatedWorkload {
  /** Ready-at times of the pods, oldest request first. */
  private readyAt: number[] = [];
  scaleEvents = 0;

  constructor(
    private readonly startupDelayMs: number,
    initialReplicas: number,
    start: number,
  ) {
    this.readyAt = new Array<number>(initialReplicas).fill(start);
  }

  get specReplicas(): number {
    return this.readyAt.length;
  }

  readyPods(now: number): number {
    let n = 0;
    for (const t of this.readyAt) if (t <= now) n++;
    return n;
  }

  scaleTo(replicas: number, now: number): void {
    const current = this.readyAt.length;
    if (replicas === current) return;
    this.scaleEvents++;
    if (replicas > current) {
      for (let i = current; i < replicas; i++) this.readyAt.push(now + this.startupDelayMs);
    } else {
      // The youngest requests are the least ready: removing from the end removes not-Ready pods first.
      this.readyAt.length = Math.max(0, replicas);
    }
  }
}
