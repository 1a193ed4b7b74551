// A PredictiveScaler spec with defaults applied and every duration, quantity and percentage
// turned into a number. Pure; throws SpecError naming the field when a value cannot be read.
import type { Mode, ModelName, PredictiveScalerSpec, ScaleTargetRef } from './types.js';
import { parseDuration, parsePercent, parseQuantity } from './units.js';

export interface MetricConfig {
  name: string;
  query: string;
  targetPerReplica: number;
}

export interface ScheduleConfig {
  name: string;
  start: number; // ms epoch
  end: number;
  minReplicas?: number;
  multiplier?: number;
}

export interface ScalerConfig {
  scaleTargetRef: ScaleTargetRef;
  minReplicas: number;
  maxReplicas: number;
  mode: Mode;
  intervalMs: number;
  metrics: MetricConfig[];
  forecast: {
    model: ModelName;
    historyMs: number;
    stepMs: number;
    horizonMs: number;
    seasonality: 'Auto' | 'None' | number[];
    quantile: number;
    retrainEveryMs: number;
  };
  scaling: {
    /** null means Auto: learned, or DEFAULT_LEAD_TIME_MS until observed. */
    leadTimeMs: number | null;
    headroom: number; // fraction, 0.1 for "10%"
    reactiveFloor: boolean;
    scaleUpMaxReplicasPerMinute: number;
    scaleDownStabilizationMs: number;
    scaleDownMaxPercentPerMinute: number;
  };
  schedule: ScheduleConfig[];
  prometheus: { url?: string; authSecretName?: string };
}

/** Lead time used under `leadTime: Auto` until pod start-up has been measured. */
export const DEFAULT_LEAD_TIME_MS = 2 * 60_000;

export const DEFAULTS = {
  minReplicas: 1,
  mode: 'Auto' as Mode,
  interval: '30s',
  model: 'HoltWinters' as ModelName,
  history: '7d',
  step: '1m',
  horizon: '30m',
  quantile: 0.9,
  retrainEvery: '6h',
  headroom: '10%',
  scaleUpMaxReplicasPerMinute: 50,
  stabilizationWindow: '5m',
  scaleDownMaxPercentPerMinute: 10,
};

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`spec.${field}: ${message}`);
    this.name = 'SpecError';
  }
}

function field<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new SpecError(path, (err as Error).message);
  }
}

export function toScalerConfig(spec: PredictiveScalerSpec): ScalerConfig {
  const f = spec.forecast ?? {};
  const s = spec.scaling ?? {};
  const minReplicas = spec.minReplicas ?? DEFAULTS.minReplicas;
  if (!(spec.maxReplicas >= minReplicas)) {
    throw new SpecError('maxReplicas', `must be at least minReplicas (${minReplicas}), got ${spec.maxReplicas}`);
  }
  if (!spec.metrics?.length) throw new SpecError('metrics', 'at least one metric is required');
  const quantile = field('forecast.quantile', () => Number(f.quantile ?? DEFAULTS.quantile));
  if (!(quantile > 0 && quantile < 1)) throw new SpecError('forecast.quantile', `must be in (0, 1), got ${f.quantile}`);
  const seasonality = f.seasonality ?? 'Auto';
  return {
    scaleTargetRef: spec.scaleTargetRef,
    minReplicas,
    maxReplicas: spec.maxReplicas,
    mode: spec.mode ?? DEFAULTS.mode,
    intervalMs: field('interval', () => parseDuration(spec.interval ?? DEFAULTS.interval)),
    metrics: spec.metrics.map((m, i) => ({
      name: m.name,
      query: m.query,
      targetPerReplica: field(`metrics[${i}].targetPerReplica`, () => positive(parseQuantity(m.targetPerReplica))),
    })),
    forecast: {
      model: f.model ?? DEFAULTS.model,
      historyMs: field('forecast.history', () => parseDuration(f.history ?? DEFAULTS.history)),
      stepMs: field('forecast.step', () => parseDuration(f.step ?? DEFAULTS.step)),
      horizonMs: field('forecast.horizon', () => parseDuration(f.horizon ?? DEFAULTS.horizon)),
      seasonality:
        seasonality === 'Auto' || seasonality === 'None'
          ? seasonality
          : seasonality.map((p, i) => field(`forecast.seasonality[${i}]`, () => parseDuration(p))),
      quantile,
      retrainEveryMs: field('forecast.retrainEvery', () => parseDuration(f.retrainEvery ?? DEFAULTS.retrainEvery)),
    },
    scaling: {
      leadTimeMs:
        s.leadTime === undefined || s.leadTime === 'Auto' ? null : field('scaling.leadTime', () => parseDuration(s.leadTime!)),
      headroom: field('scaling.headroom', () => parsePercent(s.headroom ?? DEFAULTS.headroom)),
      reactiveFloor: s.reactiveFloor ?? true,
      scaleUpMaxReplicasPerMinute: s.scaleUp?.maxReplicasPerMinute ?? DEFAULTS.scaleUpMaxReplicasPerMinute,
      scaleDownStabilizationMs: field('scaling.scaleDown.stabilizationWindow', () =>
        parseDuration(s.scaleDown?.stabilizationWindow ?? DEFAULTS.stabilizationWindow),
      ),
      scaleDownMaxPercentPerMinute: s.scaleDown?.maxPercentPerMinute ?? DEFAULTS.scaleDownMaxPercentPerMinute,
    },
    schedule: (spec.schedule ?? []).map((e, i) => ({
      name: e.name,
      start: field(`schedule[${i}].start`, () => parseTime(e.start)),
      end: field(`schedule[${i}].end`, () => parseTime(e.end)),
      minReplicas: e.minReplicas,
      multiplier: e.multiplier === undefined ? undefined : field(`schedule[${i}].multiplier`, () => positive(parseQuantity(e.multiplier!))),
    })),
    prometheus: { url: spec.prometheus?.url, authSecretName: spec.prometheus?.authSecretRef?.name },
  };
}

function positive(n: number): number {
  if (!(n > 0)) throw new Error(`must be greater than zero, got ${n}`);
  return n;
}

function parseTime(s: string): number {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`not an RFC 3339 time: "${s}"`);
  return t;
}
