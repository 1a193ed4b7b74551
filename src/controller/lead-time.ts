// The lead time in effect for a scaler (SPEC: spec.scaling.leadTime, status.leadTime): fixed by the
// spec, or under Auto learned from how long the target's recent pods took from creation to Ready.
//
// The learned value is a slow start-up (p90) plus the reconcile interval plus one forecast step.
// The first decision whose window [now + leadTime, now + leadTime + interval] reaches a ramp can come
// up to one interval later than the ideal moment, and a ramp that starts between two forecast points
// first shows at the later one, up to a step late; with both on top, pods that start as slowly as
// the p90 are Ready in time even then.

export type LeadTimeSource = 'Fixed' | 'Learned' | 'Default';

export interface LeadTime {
  leadTimeMs: number;
  source: LeadTimeSource;
  /** Where the number came from, for logs. */
  detail: string;
}

/** Only the most recent start-ups count: images, nodes and probes change. */
export const RECENT_STARTUPS = 20;
/** Fewer start-ups than this are too few to trust; the default is used until then. */
export const MIN_STARTUPS = 3;
/** Plan on a slow start-up, not a typical one: a pod Ready late means overload until it is. */
export const STARTUP_PERCENTILE = 0.9;

export interface LeadTimeInput {
  /** spec.scaling.leadTime as a number; null for Auto. */
  fixedMs: number | null;
  /**
   * Start-up durations (creation to Ready) of the target's pods, most recent first; undefined when
   * the target reports no pod selector, so its pods cannot be found.
   */
  startupsMs: readonly number[] | undefined;
  /** Used under Auto until enough start-ups were seen. */
  defaultMs: number;
  /** spec.interval, added to the learned start-up time. */
  intervalMs: number;
  /** spec.forecast.step, added too (the forecast's resolution). */
  stepMs: number;
  /** False when the operator runs with --no-learn-lead-time: Auto then always uses the default. */
  learning?: boolean;
}

export const LEARNING_OFF_DETAIL =
  'learning the lead time from pod start-ups is turned off (the operator runs with --no-learn-lead-time), so Auto uses the default';

export function leadTimeInEffect({ fixedMs, startupsMs, defaultMs, intervalMs, stepMs, learning = true }: LeadTimeInput): LeadTime {
  if (fixedMs !== null) return { leadTimeMs: fixedMs, source: 'Fixed', detail: 'spec.scaling.leadTime' };
  const fallback = (why: string): LeadTime => ({ leadTimeMs: defaultMs, source: 'Default', detail: why });
  if (!learning) return fallback(LEARNING_OFF_DETAIL);
  if (startupsMs === undefined) {
    return fallback("the target's scale subresource reports no pod selector, so its pods' start-up cannot be measured");
  }
  const recent = startupsMs.filter((ms) => Number.isFinite(ms) && ms >= 0).slice(0, RECENT_STARTUPS);
  if (recent.length < MIN_STARTUPS) {
    return fallback(`${recent.length} of the ${MIN_STARTUPS} pod start-ups needed to learn the lead time observed`);
  }
  const startupMs = nearestRankPercentile(recent, STARTUP_PERCENTILE);
  return {
    leadTimeMs: Math.ceil((startupMs + intervalMs + stepMs) / 1000) * 1000,
    source: 'Learned',
    detail: `p${Math.round(STARTUP_PERCENTILE * 100)} of the last ${recent.length} pod start-ups (creation to Ready) plus the ${intervalMs / 1000}s interval and the ${stepMs / 1000}s forecast step`,
  };
}

/** The smallest value with at least fraction p of the values at or below it (never interpolated). */
export function nearestRankPercentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}
