// The JSON the web view's page reads: the list of scalers (from the informer cache, with what the
// timeline adds) and one scaler's chart series. Status and spec are whatever the API server stored,
// possibly written by hand or by an older version: every field is checked for its type and cut to a
// bounded length here, so the page gets only strings and finite numbers of bounded size.
import type { PredictiveScaler } from '../api/types.js';
import type { DemandChart } from './demand.js';
import type { ReplicaPoint, ScaleEvent, Timeline } from './timeline.js';

/** Scalers listed at most; the answer says how many were left out. */
export const MAX_LISTED_SCALERS = 1000;
const MAX_TEXT = 500;
const MAX_CONDITIONS = 10;
const MAX_MODELS = 20;

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface ScalerSummary {
  namespace: string;
  name: string;
  target: string;
  mode: string;
  paused: boolean;
  currentReplicas: number | null;
  desiredReplicas: number | null;
  /** null: unknown (pods are not watched, or no reconcile recorded yet). */
  readyReplicas: number | null;
  model: string | null;
  leadTime: string | null;
  leadTimeSource: string | null;
  conditions: ConditionView[];
  explanation: string | null;
  /** ms since the epoch of the last reconcile the web view recorded; null: none yet. */
  lastReconciledAt: number | null;
}

export interface ScalerList {
  scalers: ScalerSummary[];
  /** Scalers left out beyond MAX_LISTED_SCALERS. */
  omitted: number;
  /** True when the timeline holds as many scalers as it may: further ones have no charts. */
  timelineFull: boolean;
}

export interface ModelView {
  name: string;
  weight: number | null;
  mase: number | null;
  trainedAt: string | null;
}

export interface ScalerDetail {
  summary: ScalerSummary;
  models: ModelView[];
  demand: DemandChart[];
  replicas: { times: number[]; replicas: number[]; desired: number[]; ready: (number | null)[] };
  events: ScaleEvent[];
}

export function scalerKeyOf(s: PredictiveScaler): string {
  return `${text(s.metadata?.namespace) ?? ''}/${text(s.metadata?.name) ?? ''}`;
}

export function scalerList(scalers: readonly PredictiveScaler[], timeline: Timeline): ScalerList {
  const sorted = [...scalers].sort((a, b) => (scalerKeyOf(a) < scalerKeyOf(b) ? -1 : scalerKeyOf(a) > scalerKeyOf(b) ? 1 : 0));
  const listed = sorted.slice(0, MAX_LISTED_SCALERS);
  return { scalers: listed.map((s) => scalerSummary(s, timeline)), omitted: sorted.length - listed.length, timelineFull: timeline.isFull() };
}

export function scalerSummary(s: PredictiveScaler, timeline: Timeline): ScalerSummary {
  const key = scalerKeyOf(s);
  const spec = (isObject(s.spec) ? s.spec : {}) as Partial<PredictiveScaler['spec']>;
  const status = (isObject(s.status) ? s.status : {}) as NonNullable<PredictiveScaler['status']>;
  const ref = isObject(spec.scaleTargetRef) ? spec.scaleTargetRef : undefined;
  const forecastSpec = isObject(spec.forecast) ? spec.forecast : undefined;
  const forecastStatus = isObject(status.forecast) ? status.forecast : undefined;
  const latest = timeline.latest(key);
  return {
    namespace: text(s.metadata?.namespace) ?? '',
    name: text(s.metadata?.name) ?? '',
    target: ref ? `${text(ref.kind) ?? '?'}/${text(ref.name) ?? '?'}` : '?',
    mode: text(spec.mode) ?? 'Auto',
    paused: isObject(s.metadata?.annotations) && s.metadata.annotations['autoscaling.prescale.dev/paused'] === 'true',
    currentReplicas: count(status.currentReplicas),
    desiredReplicas: count(status.desiredReplicas),
    readyReplicas: latest?.ready ?? null,
    model: text(forecastStatus?.model) ?? text(forecastSpec?.model) ?? null,
    leadTime: text(status.leadTime) ?? null,
    leadTimeSource: text(status.leadTimeSource) ?? null,
    conditions: (Array.isArray(status.conditions) ? status.conditions : [])
      .filter(isObject)
      .slice(0, MAX_CONDITIONS)
      .map((c) => ({ type: text(c.type) ?? '', status: text(c.status) ?? '', reason: text(c.reason) ?? '', message: text(c.message) ?? '' })),
    explanation: text(status.explanation) ?? null,
    lastReconciledAt: timeline.lastReconciledAt(key) ?? null,
  };
}

export function scalerDetail(s: PredictiveScaler, timeline: Timeline): ScalerDetail {
  const status = (isObject(s.status) ? s.status : {}) as NonNullable<PredictiveScaler['status']>;
  const recorded = timeline.get(scalerKeyOf(s));
  const points: ReplicaPoint[] = recorded?.replicas ?? [];
  return {
    summary: scalerSummary(s, timeline),
    models: (Array.isArray(status.models) ? status.models : [])
      .filter(isObject)
      .slice(0, MAX_MODELS)
      .map((m) => ({ name: text(m.name) ?? '?', weight: finite(m.weight), mase: finite(m.mase), trainedAt: text(m.trainedAt) ?? null })),
    demand: recorded?.demand ?? [],
    replicas: {
      times: points.map((p) => p.time),
      replicas: points.map((p) => p.replicas),
      desired: points.map((p) => p.desired),
      ready: points.map((p) => p.ready ?? null),
    },
    events: recorded?.events ?? [],
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function text(x: unknown): string | undefined {
  return typeof x === 'string' ? (x.length > MAX_TEXT ? `${x.slice(0, MAX_TEXT)}…` : x) : undefined;
}

function finite(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function count(x: unknown): number | null {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null;
}
