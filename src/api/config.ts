// A PredictiveScaler spec with defaults applied and every duration, quantity and percentage
// turned into a number. Pure; throws SpecError naming the field when a value cannot be read or lies
// outside what the operator serves (src/api/limits.ts). The CRD rejects the same values at admission;
// this check covers objects stored before those rules existed, so it trusts no type either.
import {
  MAX_ENTRY_NAME_LENGTH,
  MAX_HEADROOM_PERCENT,
  MAX_HISTORY_MS,
  MAX_HISTORY_POINTS,
  MAX_HORIZON_POINTS,
  MAX_INTERVAL_MS,
  MAX_LEAD_TIME_MS,
  MAX_METRICS,
  MAX_OBJECT_NAME_LENGTH,
  MAX_QUERY_LENGTH,
  MAX_REPLICAS,
  MAX_RETRAIN_EVERY_MS,
  MAX_SCHEDULE_ENTRIES,
  MAX_SCHEDULE_MULTIPLIER,
  MAX_SEASONALITY_PERIODS,
  MAX_STABILIZATION_WINDOW_MS,
  MAX_TARGET_PER_REPLICA,
  MAX_TOLERANCE_PERCENT,
  MAX_UNDER_PROVISIONED_PERCENT,
  MAX_UNIT_TEXT_LENGTH,
  MAX_URL_LENGTH,
  MIN_INTERVAL_MS,
  MIN_RETRAIN_EVERY_MS,
  MIN_STEP_MS,
  MIN_TARGET_PER_REPLICA,
} from './limits.js';
import { API_VERSION_PATTERN, CONTROL_CHARACTER_CLASS, ENTRY_NAME_PATTERN, KIND_PATTERN, OBJECT_NAME_PATTERN } from './names.js';
import type { ColdStart, Mode, ModelName, PredictiveScalerSpec, ScaleTargetRef } from './types.js';
import { formatDuration, parseDuration, parsePercent, parseQuantity } from './units.js';

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
    /** Pretrained: the global model forecasts until the model has the history it needs. */
    coldStart: ColdStart;
  };
  scaling: {
    /** null means Auto: learned, or DEFAULT_LEAD_TIME_MS until observed. */
    leadTimeMs: number | null;
    headroom: number; // fraction, 0.1 for "10%"
    reactiveFloor: boolean;
    scaleUpMaxReplicasPerMinute: number;
    scaleDownStabilizationMs: number;
    scaleDownMaxPercentPerMinute: number;
    /** Fraction: a recommendation within it of the current count keeps the count (the HPA's tolerance). */
    tolerance: number;
  };
  /** Present when the spec sets an objective or a field to Auto: the planner picks those fields. */
  planner?: PlannerConfig;
  schedule: ScheduleConfig[];
  prometheus: { url?: string; authSecretName?: string };
}

export interface PlannerConfig {
  /** Share of minutes with Ready capacity below demand the plan may allow: 0.005 = 0.5%. */
  maxUnderProvisioned: number;
  /** forecast.quantile is the planner's to choose (forecast.quantile holds the value used until a plan exists). */
  autoQuantile: boolean;
  /** scaling.headroom is the planner's to choose, likewise. */
  autoHeadroom: boolean;
}

/** The planner's objective when Auto is asked for without one. */
export const DEFAULT_MAX_UNDER_PROVISIONED = 0.005;

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
  tolerance: '10%',
};

const MODES: readonly Mode[] = ['Auto', 'ForecastOnly', 'Publish', 'Off'];
const MODELS: readonly ModelName[] = ['Ensemble', 'LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear', 'MSTL', 'Pretrained'];
const COLD_STARTS: readonly ColdStart[] = ['Pretrained', 'None'];
const ENTRY_NAME_RE = new RegExp(ENTRY_NAME_PATTERN);
const OBJECT_NAME_RE = new RegExp(OBJECT_NAME_PATTERN);
const KIND_RE = new RegExp(KIND_PATTERN);
const API_VERSION_RE = new RegExp(API_VERSION_PATTERN);
const CONTROL_CHARACTER_RE = new RegExp(CONTROL_CHARACTER_CLASS);

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field === '' ? `spec: ${message}` : `spec.${field}: ${message}`);
    this.name = 'SpecError';
  }
}

function field<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(path, (err as Error).message);
  }
}

export function toScalerConfig(spec: PredictiveScalerSpec): ScalerConfig {
  if (!isObject(spec)) throw new SpecError('', 'must be an object');
  const f = optionalObject('forecast', spec.forecast);
  const s = optionalObject('scaling', spec.scaling);
  const scaleUp = optionalObject('scaling.scaleUp', s.scaleUp);
  const scaleDown = optionalObject('scaling.scaleDown', s.scaleDown);
  const minReplicas = integer('minReplicas', spec.minReplicas ?? DEFAULTS.minReplicas, 0, MAX_REPLICAS);
  const maxReplicas = integer('maxReplicas', spec.maxReplicas, 1, MAX_REPLICAS);
  if (maxReplicas < minReplicas) {
    throw new SpecError('maxReplicas', `must be at least minReplicas (${minReplicas}), got ${maxReplicas}`);
  }
  const planner = plannerConfig(f, s);
  const quantile = planner?.autoQuantile ? DEFAULTS.quantile : (f.quantile ?? DEFAULTS.quantile);
  // A number, as admission requires: "0.9" or [0.5] could only come from an object stored without the schema.
  if (!(typeof quantile === 'number' && quantile > 0 && quantile < 1)) {
    throw new SpecError('forecast.quantile', `must be Auto or a number in (0, 1), got ${printable(f.quantile)}`);
  }
  const forecast = forecastDurations(f);
  return {
    scaleTargetRef: scaleTargetRef(spec.scaleTargetRef),
    minReplicas,
    maxReplicas,
    mode: oneOf('mode', spec.mode ?? DEFAULTS.mode, MODES),
    intervalMs: durationWithin('interval', spec.interval ?? DEFAULTS.interval, MIN_INTERVAL_MS, MAX_INTERVAL_MS),
    metrics: metrics(spec.metrics),
    forecast: {
      model: oneOf('forecast.model', f.model ?? DEFAULTS.model, MODELS),
      ...forecast,
      seasonality: seasonality(f.seasonality ?? 'Auto', forecast.historyMs),
      quantile,
      retrainEveryMs: durationWithin('forecast.retrainEvery', f.retrainEvery ?? DEFAULTS.retrainEvery, MIN_RETRAIN_EVERY_MS, MAX_RETRAIN_EVERY_MS),
      coldStart: oneOf('forecast.coldStart', f.coldStart ?? 'Pretrained', COLD_STARTS),
    },
    scaling: {
      leadTimeMs: s.leadTime === undefined || s.leadTime === 'Auto' ? null : durationWithin('scaling.leadTime', s.leadTime, 0, MAX_LEAD_TIME_MS, 'Auto or a duration'),
      headroom: headroom(planner?.autoHeadroom ? DEFAULTS.headroom : (s.headroom ?? DEFAULTS.headroom)),
      reactiveFloor: boolean('scaling.reactiveFloor', s.reactiveFloor ?? true),
      scaleUpMaxReplicasPerMinute: integer('scaling.scaleUp.maxReplicasPerMinute', scaleUp.maxReplicasPerMinute ?? DEFAULTS.scaleUpMaxReplicasPerMinute, 1, MAX_REPLICAS),
      scaleDownStabilizationMs: durationWithin('scaling.scaleDown.stabilizationWindow', scaleDown.stabilizationWindow ?? DEFAULTS.stabilizationWindow, 0, MAX_STABILIZATION_WINDOW_MS),
      scaleDownMaxPercentPerMinute: integer('scaling.scaleDown.maxPercentPerMinute', scaleDown.maxPercentPerMinute ?? DEFAULTS.scaleDownMaxPercentPerMinute, 0, 100),
      tolerance: percentAtMost('scaling.tolerance', s.tolerance ?? DEFAULTS.tolerance, MAX_TOLERANCE_PERCENT),
    },
    ...(planner ? { planner } : {}),
    schedule: schedule(spec.schedule),
    prometheus: prometheus(spec.prometheus),
  };
}

/**
 * An objective makes Auto the default of forecast.quantile and scaling.headroom; Auto without an
 * objective plans to the default one. Explicit values keep working as before and are not planned.
 */
function plannerConfig(f: Record<string, unknown>, s: Record<string, unknown>): PlannerConfig | undefined {
  const objective = s.objective === undefined ? undefined : optionalObject('scaling.objective', s.objective as Record<string, unknown>);
  if (objective && objective.maxUnderProvisioned === undefined) {
    throw new SpecError('scaling.objective.maxUnderProvisioned', 'is required in an objective, e.g. "0.5%" (the share of minutes with Ready capacity below demand)');
  }
  const autoQuantile = f.quantile === 'Auto' || (objective !== undefined && f.quantile === undefined);
  const autoHeadroom = s.headroom === 'Auto' || (objective !== undefined && s.headroom === undefined);
  if (!objective && !autoQuantile && !autoHeadroom) return undefined;
  const maxUnderProvisioned = objective
    ? percentAtMost('scaling.objective.maxUnderProvisioned', objective.maxUnderProvisioned, MAX_UNDER_PROVISIONED_PERCENT)
    : DEFAULT_MAX_UNDER_PROVISIONED;
  return { maxUnderProvisioned, autoQuantile, autoHeadroom };
}

function percentAtMost(path: string, value: unknown, maxPercent: number): number {
  const fraction = field(path, () => parsePercent(unitText(value, false, 'a percentage such as "0.5%"')));
  if (fraction * 100 > maxPercent) throw new SpecError(path, `must be at most ${maxPercent}%, got ${printable(value)}`);
  return fraction;
}

/** History, step and horizon, and the point budgets that bound what one metric costs. */
function forecastDurations(f: NonNullable<PredictiveScalerSpec['forecast']>) {
  const stepMs = durationWithin('forecast.step', f.step ?? DEFAULTS.step, MIN_STEP_MS, MAX_HISTORY_MS);
  const historyMs = durationWithin('forecast.history', f.history ?? DEFAULTS.history, 1, MAX_HISTORY_MS);
  if (historyMs / stepMs > MAX_HISTORY_POINTS) {
    throw new SpecError(
      'forecast.history',
      `${printable(f.history ?? DEFAULTS.history)} at a step of ${formatDuration(stepMs)} is ${Math.ceil(historyMs / stepMs)} points; at most ${MAX_HISTORY_POINTS} are served: shorten the history or raise spec.forecast.step`,
    );
  }
  const horizonMs = durationWithin('forecast.horizon', f.horizon ?? DEFAULTS.horizon, 1, historyMs, undefined, 'spec.forecast.history');
  if (horizonMs / stepMs > MAX_HORIZON_POINTS) {
    throw new SpecError(
      'forecast.horizon',
      `${printable(f.horizon ?? DEFAULTS.horizon)} at a step of ${formatDuration(stepMs)} is ${Math.ceil(horizonMs / stepMs)} points; at most ${MAX_HORIZON_POINTS} are served: shorten the horizon or raise spec.forecast.step`,
    );
  }
  return { historyMs, stepMs, horizonMs };
}

function scaleTargetRef(ref: unknown): ScaleTargetRef {
  if (!isObject(ref)) throw new SpecError('scaleTargetRef', 'must be an object with apiVersion, kind and name');
  return {
    apiVersion: matching('scaleTargetRef.apiVersion', ref.apiVersion, MAX_OBJECT_NAME_LENGTH, API_VERSION_RE, 'an API version such as apps/v1'),
    kind: matching('scaleTargetRef.kind', ref.kind, MAX_ENTRY_NAME_LENGTH, KIND_RE, 'a kind such as Deployment'),
    name: matching('scaleTargetRef.name', ref.name, MAX_OBJECT_NAME_LENGTH, OBJECT_NAME_RE, 'an object name (lower-case letters, digits, "-" and ".")'),
  };
}

function metrics(list: unknown): MetricConfig[] {
  if (!Array.isArray(list) || list.length === 0) throw new SpecError('metrics', 'at least one metric is required');
  if (list.length > MAX_METRICS) throw new SpecError('metrics', `at most ${MAX_METRICS} metrics are served, got ${list.length}`);
  const seen = new Set<string>();
  return list.map((m: unknown, i) => {
    if (!isObject(m)) throw new SpecError(`metrics[${i}]`, 'must be an object with name, query and targetPerReplica');
    const name = matching(`metrics[${i}].name`, m.name, MAX_ENTRY_NAME_LENGTH, ENTRY_NAME_RE, 'letters, digits, "-", "_" and "."');
    if (seen.has(name)) throw new SpecError(`metrics[${i}].name`, `"${name}" is used by another metric; names must be unique`);
    seen.add(name);
    const query = text(`metrics[${i}].query`, m.query, MAX_QUERY_LENGTH);
    if (query.trim() === '') throw new SpecError(`metrics[${i}].query`, 'must be a PromQL expression, e.g. sum(rate(http_requests_total[1m]))');
    if (CONTROL_CHARACTER_RE.test(query)) throw new SpecError(`metrics[${i}].query`, 'must not contain control characters');
    const targetPerReplica = field(`metrics[${i}].targetPerReplica`, () => parseQuantity(unitText(m.targetPerReplica, true)));
    if (!(targetPerReplica >= MIN_TARGET_PER_REPLICA && targetPerReplica <= MAX_TARGET_PER_REPLICA)) {
      throw new SpecError(
        `metrics[${i}].targetPerReplica`,
        `must be greater than zero: at least ${MIN_TARGET_PER_REPLICA} (1m) and at most ${MAX_TARGET_PER_REPLICA}, got ${printable(m.targetPerReplica)}`,
      );
    }
    return { name, query, targetPerReplica };
  });
}

function seasonality(value: unknown, historyMs: number): 'Auto' | 'None' | number[] {
  if (value === 'Auto' || value === 'None') return value;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SEASONALITY_PERIODS) {
    throw new SpecError('forecast.seasonality', `must be Auto, None or a list of 1 to ${MAX_SEASONALITY_PERIODS} periods such as ["1d", "7d"]`);
  }
  return value.map((p: unknown, i) => durationWithin(`forecast.seasonality[${i}]`, p, 1, historyMs, undefined, 'spec.forecast.history'));
}

function headroom(value: unknown): number {
  const fraction = field('scaling.headroom', () => parsePercent(unitText(value, false)));
  if (fraction * 100 > MAX_HEADROOM_PERCENT) {
    throw new SpecError('scaling.headroom', `must be at most ${MAX_HEADROOM_PERCENT}%, got ${printable(value)}`);
  }
  return fraction;
}

function schedule(list: unknown): ScheduleConfig[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new SpecError('schedule', 'must be a list of events');
  if (list.length > MAX_SCHEDULE_ENTRIES) throw new SpecError('schedule', `at most ${MAX_SCHEDULE_ENTRIES} entries are served, got ${list.length}`);
  const seen = new Set<string>();
  return list.map((e: unknown, i) => {
    if (!isObject(e)) throw new SpecError(`schedule[${i}]`, 'must be an object with name, start and end');
    const name = matching(`schedule[${i}].name`, e.name, MAX_ENTRY_NAME_LENGTH, ENTRY_NAME_RE, 'letters, digits, "-", "_" and "."');
    if (seen.has(name)) throw new SpecError(`schedule[${i}].name`, `"${name}" is used by another entry; names must be unique`);
    seen.add(name);
    const start = time(`schedule[${i}].start`, e.start);
    const end = time(`schedule[${i}].end`, e.end);
    if (!(end > start)) throw new SpecError(`schedule[${i}].end`, `must be after spec.schedule[${i}].start`);
    const minReplicas = e.minReplicas === undefined ? undefined : integer(`schedule[${i}].minReplicas`, e.minReplicas, 0, MAX_REPLICAS);
    let multiplier: number | undefined;
    if (e.multiplier !== undefined) {
      multiplier = field(`schedule[${i}].multiplier`, () => parseQuantity(unitText(e.multiplier, true)));
      if (!(multiplier > 0 && multiplier <= MAX_SCHEDULE_MULTIPLIER)) {
        throw new SpecError(`schedule[${i}].multiplier`, `must be greater than zero and at most ${MAX_SCHEDULE_MULTIPLIER}, got ${printable(e.multiplier)}`);
      }
    }
    if (minReplicas === undefined && multiplier === undefined) throw new SpecError(`schedule[${i}]`, 'needs minReplicas or multiplier');
    return { name, start, end, minReplicas, multiplier };
  });
}

function prometheus(value: unknown): ScalerConfig['prometheus'] {
  if (value === undefined) return {};
  if (!isObject(value)) throw new SpecError('prometheus', 'must be an object');
  const url = value.url === undefined ? undefined : prometheusUrl(value.url);
  let authSecretName: string | undefined;
  if (value.authSecretRef !== undefined) {
    const ref = value.authSecretRef;
    if (!isObject(ref)) throw new SpecError('prometheus.authSecretRef', 'must be an object with the name of a Secret');
    authSecretName = matching('prometheus.authSecretRef.name', ref.name, MAX_OBJECT_NAME_LENGTH, OBJECT_NAME_RE, 'a Secret name (lower-case letters, digits, "-" and ".")');
  }
  return { url, authSecretName };
}

/** A base URL of the Prometheus HTTP API: http(s), a host, no credentials, no query or fragment. */
function prometheusUrl(value: unknown): string {
  const path = 'prometheus.url';
  const url = text(path, value, MAX_URL_LENGTH);
  const example = 'e.g. http://prometheus.monitoring:9090';
  if (!/^https?:\/\//.test(url)) throw new SpecError(path, `must start with http:// or https://, ${example}`);
  if (/[\s\x00-\x1F\x7F-\x9F]/.test(url)) throw new SpecError(path, 'must not contain spaces or control characters');
  if (/^https?:\/\/[^/]*@/.test(url)) {
    throw new SpecError(path, 'must not contain user info (user:password@): put credentials in the Secret named by spec.prometheus.authSecretRef');
  }
  if (url.includes('?') || url.includes('#')) throw new SpecError(path, 'must not have a query (?) or a fragment (#)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SpecError(path, `must be a well-formed http(s) URL with a host, ${example}`);
  }
  if (parsed.hostname === '') throw new SpecError(path, `must name a host, ${example}`);
  return url;
}

/** A duration in [minMs, maxMs]; `maxName` names the field the maximum comes from, if not a constant. */
function durationWithin(path: string, value: unknown, minMs: number, maxMs: number, what = 'a duration', maxName?: string): number {
  const ms = field(path, () => parseDuration(unitText(value, false, what)));
  if (ms < minMs) {
    throw new SpecError(path, minMs <= 1 ? `must be greater than zero, got ${printable(value)}` : `must be at least ${formatDuration(minMs)}, got ${printable(value)}`);
  }
  if (ms > maxMs) throw new SpecError(path, `must be at most ${maxName ? `${maxName} (${formatDuration(maxMs)})` : formatDuration(maxMs)}, got ${printable(value)}`);
  return ms;
}

/** The text of a duration, quantity or percentage; a number too where `numberAllowed`. */
function unitText(value: unknown, numberAllowed: true): string | number;
function unitText(value: unknown, numberAllowed: false, what?: string): string;
function unitText(value: unknown, numberAllowed: boolean, what = 'a text'): string | number {
  if (numberAllowed && typeof value === 'number') return value;
  if (typeof value !== 'string') throw new Error(`must be ${numberAllowed ? 'a number or a quantity such as "40"' : what}, got ${typeof value}`);
  if (value.length > MAX_UNIT_TEXT_LENGTH) throw new Error(`must be at most ${MAX_UNIT_TEXT_LENGTH} characters, got ${value.length}`);
  return value;
}

function integer(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new SpecError(path, `must be a whole number, got ${printable(value)}`);
  if (value < min || value > max) throw new SpecError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SpecError(path, `must be true or false, got ${printable(value)}`);
  return value;
}

function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new SpecError(path, `must be one of ${allowed.join(', ')}, got ${printable(value)}`);
  return value as T;
}

function text(path: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw new SpecError(path, `must be a string, got ${typeof value}`);
  if (value.length > maxLength) throw new SpecError(path, `must be at most ${maxLength} characters, got ${value.length}`);
  return value;
}

function matching(path: string, value: unknown, maxLength: number, pattern: RegExp, what: string): string {
  const s = text(path, value, maxLength);
  if (!pattern.test(s)) throw new SpecError(path, `must be ${what}, got ${printable(s)}`);
  return s;
}

function time(path: string, value: unknown): number {
  const s = text(path, value, 64);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new SpecError(path, `not an RFC 3339 time: ${printable(s)}; use e.g. 2026-11-27T06:00:00Z`);
  return t;
}

function optionalObject<T>(path: string, value: T | undefined): Partial<T> & Record<string, unknown> {
  if (value === undefined) return {} as Partial<T> & Record<string, unknown>;
  if (!isObject(value)) throw new SpecError(path, 'must be an object');
  return value as Partial<T> & Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value quoted for a message: JSON, cut short, so a hostile spec cannot flood status or logs. */
function printable(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
