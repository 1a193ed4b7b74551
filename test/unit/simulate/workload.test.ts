import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedWorkload } from '../../../src/simulate/workload.js';

/** The workload as SPEC section 6 states it, one Ready-at time per pod. */
class PerPod {
  readyAt: number[];
  scaleEvents = 0;
  constructor(
    private readonly delay: number,
    initial: number,
    start: number,
  ) {
    this.readyAt = new Array<number>(initial).fill(start);
  }
  ready(now: number) {
    return this.readyAt.filter((t) => t <= now).length;
  }
  scaleTo(n: number, now: number) {
    if (n === this.readyAt.length) return;
    this.scaleEvents++;
    if (n > this.readyAt.length) while (this.readyAt.length < n) this.readyAt.push(now + this.delay);
    else this.readyAt.length = Math.max(0, n);
  }
}

describe('SimulatedWorkload', () => {
  it('counts Ready pods exactly as one entry per pod would, whatever the sequence of scales', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 5 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }), (initial, delaySteps, steps) => {
        const w = new SimulatedWorkload(delaySteps * 15_000, initial, 0);
        const ref = new PerPod(delaySteps * 15_000, initial, 0);
        let now = 0;
        for (const [replicas, advance] of steps) {
          now += advance * 15_000;
          expect(w.readyPods(now)).toBe(ref.ready(now));
          w.scaleTo(replicas, now);
          ref.scaleTo(replicas, now);
          expect(w.specReplicas).toBe(ref.readyAt.length);
          expect(w.readyPods(now)).toBe(ref.ready(now));
        }
        expect(w.scaleEvents).toBe(ref.scaleEvents);
      }),
    );
  });

  it('holds two billion replicas without an entry per pod (an array of them would not even allocate)', () => {
    const w = new SimulatedWorkload(60_000, 2_000_000_000, 0);
    for (let t = 15_000; t <= 24 * 3600_000; t += 15_000) {
      w.scaleTo(t % 60_000 === 0 ? 2_147_483_647 : 1_000_000_000, t);
      w.readyPods(t);
    }
    expect(w.specReplicas).toBe(2_147_483_647);
    expect(w.readyPods(25 * 3600_000)).toBe(2_147_483_647);
  });
});
