// Axis ticks: "nice" numbers (1, 2, 5 x 10^k) for values and UTC-aligned instants for time.

/** The nice step (1, 2 or 5 x 10^k) that cuts `span` into about `targetCount` intervals. */
export function niceStep(span: number, targetCount: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, targetCount);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
  return nice * magnitude;
}

export interface NiceTicks {
  /** The domain widened to whole steps. */
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** Ticks covering [min, max] with a nice step; the returned domain starts and ends on a tick. */
export function niceTicks(min: number, max: number, targetCount = 5): NiceTicks {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 1;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    hi += pad;
    if (lo !== 0) lo -= pad;
  }
  const step = niceStep(hi - lo, targetCount);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 56 * DAY, 112 * DAY, 364 * DAY,
];
// The Unix epoch was a Thursday; weekly ticks are aligned to Mondays (4 days later).
const WEEK_ALIGNMENT_OFFSET = 4 * DAY;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface TimeTicks {
  stepMs: number;
  ticks: number[];
  /** One or two label lines per tick: the time of day, and the date where it changes. */
  labels: string[][];
}

/** UTC-aligned ticks between t0 and t1 (ms), about `targetCount` of them. */
export function timeTicks(t0: number, t1: number, targetCount = 6): TimeTicks {
  const span = Math.max(t1 - t0, MINUTE);
  const stepMs = TIME_STEPS.find((s) => s >= span / Math.max(1, targetCount)) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const offset = stepMs >= 7 * DAY ? WEEK_ALIGNMENT_OFFSET : 0;
  const ticks: number[] = [];
  for (let t = Math.ceil((t0 - offset) / stepMs) * stepMs + offset; t <= t1; t += stepMs) ticks.push(t);
  const labels = ticks.map((t, i) => {
    const previous = i > 0 ? new Date(ticks[i - 1]) : undefined;
    const d = new Date(t);
    const date = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    if (stepMs >= DAY) {
      return !previous || previous.getUTCFullYear() !== d.getUTCFullYear() ? [date, String(d.getUTCFullYear())] : [date];
    }
    const clock = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
    const dayChanged = !previous || previous.getUTCDate() !== d.getUTCDate() || previous.getUTCMonth() !== d.getUTCMonth();
    return dayChanged ? [clock, date] : [clock];
  });
  return { stepMs, ticks, labels };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
