// Known events (spec.schedule): while an entry's [start, end) contains now, its multiplier scales
// the metric-driven recommendation and its minReplicas floors it.
import type { ScheduleConfig } from '../api/config.js';
import { formatNumber } from './format.js';
import { ceilReplicas } from './rounding.js';

export interface ScheduleEffect {
  from: number;
  to: number;
  detail: string;
}

export function activeScheduleEntries(entries: ScheduleConfig[], now: number): ScheduleConfig[] {
  return entries.filter((e) => e.start <= now && now < e.end);
}

/**
 * Applies the active entries: first the largest multiplier (overlapping events do not compound),
 * then the highest floor. Returns the effects that changed the number.
 */
export function applySchedule(replicas: number, entries: ScheduleConfig[], now: number): { replicas: number; effects: ScheduleEffect[] } {
  const active = activeScheduleEntries(entries, now);
  const effects: ScheduleEffect[] = [];
  let value = replicas;

  const multiplied = pickMax(active, (e) => e.multiplier);
  if (multiplied) {
    const to = ceilReplicas(value * multiplied.multiplier!);
    if (to !== value) effects.push({ from: value, to, detail: `schedule ${multiplied.name} x${formatNumber(multiplied.multiplier!)}` });
    value = to;
  }

  const floored = pickMax(active, (e) => e.minReplicas);
  if (floored && floored.minReplicas! > value) {
    effects.push({ from: value, to: floored.minReplicas!, detail: `schedule ${floored.name} floor ${floored.minReplicas}` });
    value = floored.minReplicas!;
  }
  return { replicas: value, effects };
}

function pickMax(entries: ScheduleConfig[], key: (e: ScheduleConfig) => number | undefined): ScheduleConfig | undefined {
  let best: ScheduleConfig | undefined;
  for (const e of entries) {
    const k = key(e);
    if (k !== undefined && (best === undefined || k > key(best)!)) best = e;
  }
  return best;
}
