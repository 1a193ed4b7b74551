// Condition bookkeeping with Kubernetes semantics: lastTransitionTime moves only when the status flips.
import type { Condition, ConditionStatus, ConditionType } from '../api/types.js';

export interface ConditionUpdate {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export const CONDITION_ORDER: ConditionType[] = ['Ready', 'AbleToScale', 'ForecastAvailable', 'ScalingLimited', 'Degraded', 'ObjectiveMet'];

/** Reasons for AbleToScale=False that the user chose (pause, ForecastOnly, Off): not problems. */
export const INTENTIONAL_REASONS: ReadonlySet<string> = new Set(['Paused', 'ForecastOnly', 'ModeOff']);

/** Conditions that are bad when True (the rest are bad when False). */
const BAD_WHEN_TRUE = new Set<ConditionType>(['Degraded']);

export function isBad(c: Pick<Condition, 'type' | 'status'>): boolean {
  return BAD_WHEN_TRUE.has(c.type) ? c.status === 'True' : c.status === 'False' && c.type !== 'ScalingLimited';
}

export function mergeConditions(
  previous: Condition[] | undefined,
  updates: ConditionUpdate[],
  now: Date,
  observedGeneration?: number,
): Condition[] {
  const byType = new Map((previous ?? []).map((c) => [c.type, c]));
  for (const u of updates) {
    const old = byType.get(u.type);
    byType.set(u.type, {
      ...u,
      lastTransitionTime: old && old.status === u.status ? old.lastTransitionTime : now.toISOString(),
      ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    });
  }
  return CONDITION_ORDER.filter((t) => byType.has(t)).map((t) => byType.get(t)!);
}

/** Conditions in `next` that are bad and were not bad (or not there) in `previous`. */
export function newlyBad(previous: Condition[] | undefined, next: Condition[]): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return next.filter((c) => {
    if (!isBad(c)) return false;
    const old = before.get(c.type);
    return !old || !isBad(old) || old.reason !== c.reason;
  });
}
