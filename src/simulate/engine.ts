// Replays a demand trace through replica controllers against the simulated workload (SPEC section 6),
// all policies in lock-step on one 15-second clock, and accounts under-provisioning and cost over the
// evaluated span.
import type { ClusterView, PolicyResult, ReplicaController, TimeSeriesData } from './types.js';
import { SimulatedWorkload } from './workload.js';

export const MINUTE_MS = 60_000;
/** The simulation clock: the HPA's sync period, and a divisor of every policy's period. */
export const TICK_MS = 15_000;

export interface SimulationSetup {
  /** Demand per minute: values[i] is the demand during [start + i min, start + (i+1) min). */
  demand: TimeSeriesData;
  capacityPerReplica: number;
  startupDelayMs: number;
  metricLagMs: number;
  /** Accounting starts here (trace start + warm-up); policies run from the trace start. */
  evaluateFrom: number;
  minReplicas: number;
  maxReplicas: number;
  /** Called now and then with the fraction done. */
  onProgress?: (fraction: number) => void;
}

export interface PolicyRun {
  result: PolicyResult;
  /** Requested replicas at the start of each evaluated minute. */
  replicas: number[];
  /** Ready replicas x capacity at the start of each evaluated minute. */
  readyCapacity: number[];
}

/** Replicas that serve `demand` exactly, within the bounds. */
export function replicasFor(demand: number, capacityPerReplica: number, minReplicas: number, maxReplicas: number): number {
  const need = Math.ceil(demand / capacityPerReplica - 1e-9);
  return Math.min(maxReplicas, Math.max(minReplicas, need));
}

/** The latest observation a policy can see at `now`: the demand metric-lag ago. */
export function observedAt(demand: TimeSeriesData, now: number, metricLagMs: number): number | undefined {
  const k = Math.floor((now - metricLagMs - demand.start) / demand.stepMs);
  if (k < 0) return undefined;
  const v = demand.values[Math.min(k, demand.values.length - 1)];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export function evaluatedMinutes(setup: SimulationSetup): number {
  const first = Math.max(0, Math.ceil((setup.evaluateFrom - setup.demand.start) / MINUTE_MS));
  return Math.max(0, setup.demand.values.length - first);
}

/**
 * @param startupDelaysMs each controller's workload start-up delay, in the controllers' order;
 *   default setup.startupDelayMs for all. Runs at several delays share one clock, so controllers
 *   that share a forecaster (SharedForecasts) compute each forecast once for all of them.
 */
export function runSimulation(controllers: ReplicaController[], setup: SimulationSetup, startupDelaysMs?: readonly number[]): PolicyRun[] {
  const { demand, capacityPerReplica: capacity } = setup;
  if (demand.stepMs !== MINUTE_MS) throw new Error('the simulation runs on a one-minute demand grid');
  if (startupDelaysMs && startupDelaysMs.length !== controllers.length) throw new Error(`${startupDelaysMs.length} start-up delays for ${controllers.length} controllers`);
  for (const c of controllers) {
    if (c.periodMs % TICK_MS !== 0) throw new Error(`${c.name}: period ${c.periodMs} ms is not a multiple of ${TICK_MS} ms`);
  }
  const start = demand.start;
  const end = start + demand.values.length * MINUTE_MS;
  const initial = replicasFor(demand.values[0] ?? 0, capacity, setup.minReplicas, setup.maxReplicas);
  const workloads = controllers.map((_, i) => new SimulatedWorkload(startupDelaysMs?.[i] ?? setup.startupDelayMs, initial, start));
  const acc = controllers.map(() => ({ under: 0, unserved: 0, replicaMinutes: 0, replicas: [] as number[], readyCapacity: [] as number[] }));
  const tickMinutes = TICK_MS / MINUTE_MS;
  let eventsBeforeEvaluation: number[] | undefined;
  const totalTicks = (end - start) / TICK_MS;
  let tick = 0;

  for (let now = start; now < end; now += TICK_MS, tick++) {
    const minute = Math.floor((now - start) / MINUTE_MS);
    const evaluating = now >= setup.evaluateFrom;
    if (evaluating && !eventsBeforeEvaluation) eventsBeforeEvaluation = workloads.map((w) => w.scaleEvents);
    const observedDemand = observedAt(demand, now, setup.metricLagMs);
    for (let i = 0; i < controllers.length; i++) {
      const c = controllers[i]!;
      const w = workloads[i]!;
      if ((now - start) % c.periodMs === 0) {
        const ready = w.readyPods(now);
        const view: ClusterView = { now, specReplicas: w.specReplicas, readyPods: ready, unreadyPods: w.specReplicas - ready, observedDemand };
        w.scaleTo(c.sync(view), now);
      }
      if (!evaluating) continue;
      const a = acc[i]!;
      const d = demand.values[minute]!;
      const served = w.readyPods(now) * capacity;
      if (d > served * (1 + 1e-12)) {
        a.under += tickMinutes;
        a.unserved += (d - served) * tickMinutes;
      }
      a.replicaMinutes += w.specReplicas * tickMinutes;
      if ((now - start) % MINUTE_MS === 0) {
        a.replicas.push(w.specReplicas);
        a.readyCapacity.push(served);
      }
    }
    if (setup.onProgress && tick % 2000 === 0) setup.onProgress(tick / totalTicks);
  }
  setup.onProgress?.(1);

  const minutes = evaluatedMinutes(setup);
  return controllers.map((c, i) => {
    const a = acc[i]!;
    return {
      result: {
        name: c.name,
        underProvisionedMinutes: a.under,
        underProvisionedFraction: minutes > 0 ? a.under / minutes : 0,
        unservedDemand: a.unserved,
        replicaMinutes: a.replicaMinutes,
        scaleEvents: workloads[i]!.scaleEvents - (eventsBeforeEvaluation?.[i] ?? workloads[i]!.scaleEvents),
      },
      replicas: a.replicas,
      readyCapacity: a.readyCapacity,
    };
  });
}

/**
 * The oracle knows the future: exactly the replicas each minute's demand needs, Ready at once. No
 * policy can use fewer replica-minutes without under-provisioning.
 */
export function oracleRun(setup: SimulationSetup): PolicyRun {
  const { demand } = setup;
  const first = demand.values.length - evaluatedMinutes(setup);
  const replicas: number[] = [];
  let events = 0;
  let previous = replicasFor(demand.values[Math.max(0, first - 1)] ?? 0, setup.capacityPerReplica, setup.minReplicas, setup.maxReplicas);
  for (let k = first; k < demand.values.length; k++) {
    const r = replicasFor(demand.values[k]!, setup.capacityPerReplica, setup.minReplicas, setup.maxReplicas);
    if (r !== previous) events++;
    previous = r;
    replicas.push(r);
  }
  const under = replicas.reduce((n, r, i) => n + (demand.values[first + i]! > r * setup.capacityPerReplica * (1 + 1e-12) ? 1 : 0), 0);
  const unserved = replicas.reduce((s, r, i) => s + Math.max(0, demand.values[first + i]! - r * setup.capacityPerReplica), 0);
  return {
    result: {
      name: 'oracle',
      underProvisionedMinutes: under,
      underProvisionedFraction: replicas.length > 0 ? under / replicas.length : 0,
      unservedDemand: unserved,
      replicaMinutes: replicas.reduce((s, r) => s + r, 0),
      scaleEvents: events,
    },
    replicas,
    readyCapacity: replicas.map((r) => r * setup.capacityPerReplica),
  };
}
