// What the web view remembers of each scaler's reconciles: replica counts over the last hours,
// the scale events with their explanation, and the latest demand chart of each metric. Every part
// is bounded: points per scaler, events per scaler, and the number of scalers.
import type { DemandChart } from './demand.js';
import { RingBuffer } from './ring-buffer.js';

export interface ReplicaPoint {
  time: number;
  /** spec.replicas after the reconcile. */
  replicas: number;
  desired: number;
  /** Pods of the target that are Ready; undefined when unknown (pods are not watched). */
  ready?: number;
}

export interface ScaleEvent {
  time: number;
  from: number;
  to: number;
  explanation: string;
}

export interface TimelineEntry extends ReplicaPoint {
  demand: DemandChart[];
  scaled?: { from: number; to: number };
  explanation: string;
}

export interface ScalerTimeline {
  lastReconciledAt: number;
  replicas: ReplicaPoint[];
  events: ScaleEvent[];
  demand: DemandChart[];
  /** The latest explanation of the decision. */
  explanation: string;
}

export interface TimelineLimits {
  /** Scalers recorded at most; reconciles of further scalers are not recorded. */
  maxScalers: number;
  /** How far back replica points reach. */
  windowMs: number;
  /** Replica points per scaler (a run of equal counts takes two). */
  maxPoints: number;
  /** Scale events kept per scaler. */
  maxEvents: number;
  /** Characters of an explanation kept. */
  maxExplanationLength: number;
}

export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = {
  maxScalers: 256,
  windowMs: 6 * 3600_000,
  maxPoints: 1440,
  maxEvents: 100,
  maxExplanationLength: 1000,
};

interface ScalerRecord {
  replicas: RingBuffer<ReplicaPoint>;
  events: RingBuffer<ScaleEvent>;
  demand: DemandChart[];
  explanation: string;
  lastReconciledAt: number;
}

export type TimelineListener = (key: string) => void;

export class Timeline {
  readonly limits: TimelineLimits;
  private readonly records = new Map<string, ScalerRecord>();
  private readonly listeners = new Set<TimelineListener>();

  constructor(limits: Partial<TimelineLimits> = {}) {
    this.limits = { ...DEFAULT_TIMELINE_LIMITS, ...limits };
  }

  /** Returns false when the entry was not recorded: the timeline already holds maxScalers others. */
  record(key: string, entry: TimelineEntry): boolean {
    let r = this.records.get(key);
    if (!r) {
      if (this.records.size >= this.limits.maxScalers) return false;
      r = { replicas: new RingBuffer(this.limits.maxPoints), events: new RingBuffer(this.limits.maxEvents), demand: [], explanation: '', lastReconciledAt: entry.time };
      this.records.set(key, r);
    }
    const explanation = entry.explanation.slice(0, this.limits.maxExplanationLength);
    const point: ReplicaPoint = { time: entry.time, replicas: entry.replicas, desired: entry.desired, ...(entry.ready !== undefined ? { ready: entry.ready } : {}) };
    // A run of equal counts is kept as its first and its last point, so a steady scaler spends two
    // points however long it is steady, and every change keeps its exact time.
    const points = r.replicas.toArrayTail(2);
    const [before, last] = points.length === 2 ? points : [undefined, points[0]];
    if (last && entry.time < last.time) {
      // A clock that stepped back adds no point: the chart's times must ascend.
    } else if (last && before && sameCounts(before, last) && sameCounts(last, point)) r.replicas.replaceLast(point);
    else r.replicas.push(point);
    r.replicas.dropWhile((p) => p.time < entry.time - this.limits.windowMs);
    if (entry.scaled) r.events.push({ time: entry.time, from: entry.scaled.from, to: entry.scaled.to, explanation });
    r.events.dropWhile((e) => e.time < entry.time - this.limits.windowMs);
    r.demand = entry.demand;
    r.explanation = explanation;
    r.lastReconciledAt = entry.time;
    for (const listener of this.listeners) listener(key);
    return true;
  }

  forget(key: string): void {
    if (this.records.delete(key)) for (const listener of this.listeners) listener(key);
  }

  get(key: string): ScalerTimeline | undefined {
    const r = this.records.get(key);
    if (!r) return undefined;
    return { lastReconciledAt: r.lastReconciledAt, replicas: r.replicas.toArray(), events: r.events.toArray(), demand: r.demand, explanation: r.explanation };
  }

  /** The newest replica point of a scaler. */
  latest(key: string): ReplicaPoint | undefined {
    return this.records.get(key)?.replicas.last();
  }

  lastReconciledAt(key: string): number | undefined {
    return this.records.get(key)?.lastReconciledAt;
  }

  get size(): number {
    return this.records.size;
  }

  isFull(): boolean {
    return this.records.size >= this.limits.maxScalers;
  }

  /** Called with the scaler's key after each record() and forget(); returns the unsubscribe. */
  subscribe(listener: TimelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function sameCounts(a: ReplicaPoint, b: ReplicaPoint): boolean {
  return a.replicas === b.replicas && a.desired === b.desired && a.ready === b.ready;
}
