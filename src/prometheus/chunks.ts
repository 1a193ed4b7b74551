// Prometheus refuses range queries that would return more than 11,000 points per series, so a long
// history is fetched as several consecutive ranges on the same step grid.

export interface TimeRange {
  startMs: number;
  endMs: number;
}

/**
 * Splits [startMs, endMs] into ranges of at most `maxPoints` evaluation steps each. The ranges lie on
 * the grid startMs + k * stepMs and do not share a step, so stitching them never repeats a sample.
 */
export function splitRange(startMs: number, endMs: number, stepMs: number, maxPoints: number): TimeRange[] {
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
    throw new RangeError(`invalid time range: start ${startMs} ms, end ${endMs} ms`);
  }
  if (!Number.isFinite(stepMs) || stepMs <= 0) throw new RangeError(`invalid step: ${stepMs} ms`);
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`invalid points per request: ${maxPoints}`);

  const totalSteps = Math.floor((endMs - startMs) / stepMs) + 1;
  const ranges: TimeRange[] = [];
  for (let first = 0; first < totalSteps; first += maxPoints) {
    const last = Math.min(first + maxPoints, totalSteps) - 1;
    ranges.push({
      startMs: startMs + first * stepMs,
      endMs: last === totalSteps - 1 ? endMs : startMs + last * stepMs,
    });
  }
  return ranges;
}
