// Where time plots start and end, and the attributes the page script uses for hover read-outs.
import type { TimeSeriesData } from '../../simulate/types.js';
import type { PlotArea } from '../svg/chart.js';
import type { Scale } from '../svg/scale.js';

export interface TimeWindow {
  t0: number;
  t1: number;
}

/** The span a series covers: its first timestamp to the end of its last step. */
export function seriesWindow(series: TimeSeriesData): TimeWindow {
  return { t0: series.start, t1: series.start + Math.max(1, series.values.length) * series.stepMs };
}

/**
 * A window of `lengthMs` around the series' largest value, placed so the ramp-up before the peak
 * (where scaling late hurts) takes two thirds of it; clamped to the series.
 */
export function peakWindow(series: TimeSeriesData, lengthMs: number): TimeWindow {
  const whole = seriesWindow(series);
  if (whole.t1 - whole.t0 <= lengthMs) return whole;
  let peak = -1;
  series.values.forEach((v, i) => {
    if (Number.isFinite(v) && (peak < 0 || v > series.values[peak])) peak = i;
  });
  const peakTime = series.start + Math.max(0, peak) * series.stepMs;
  const t0 = Math.min(Math.max(whole.t0, peakTime - (lengthMs * 2) / 3), whole.t1 - lengthMs);
  return { t0, t1: t0 + lengthMs };
}

/** Data attributes that let the page script turn a pointer position into a time (and a value). */
export function hoverAttributes(area: PlotArea, window: TimeWindow, y?: Scale): Record<string, number> {
  const attributes: Record<string, number> = {
    'data-hover-x0': area.left,
    'data-hover-x1': area.left + area.width,
    'data-hover-t0': window.t0,
    'data-hover-t1': window.t1,
    'data-hover-top': area.top,
    'data-hover-bottom': area.top + area.height,
  };
  if (y) {
    attributes['data-hover-v0'] = y.domain[0];
    attributes['data-hover-v1'] = y.domain[1];
  }
  return attributes;
}

/** The largest finite value of several series (0 when there is none). */
export function maxOf(...series: readonly (readonly number[])[]): number {
  let max = 0;
  for (const values of series) for (const v of values) if (Number.isFinite(v) && v > max) max = v;
  return max;
}
