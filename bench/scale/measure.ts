// Pure arithmetic over what the scale bench observes: Prometheus text exposition, histogram quantiles
// from bucket deltas, per-scaler reconcile gaps, /proc samples and audit-log request counts.

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (comments skipped; no timestamps expected). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sumOf(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Cumulative bucket counts of a histogram's series whose labels include `match`, by upper bound (+Inf last). */
export function histogramBuckets(samples: Sample[], name: string, match: Record<string, string> = {}): { le: number; count: number }[] {
  return samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
}

/** Bucket counts observed between two scrapes of the same histogram. */
export function bucketDelta(before: { le: number; count: number }[], after: { le: number; count: number }[]): { le: number; count: number }[] {
  return after.map((b) => ({ le: b.le, count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0) }));
}

export interface HistogramQuantile {
  /** Linear interpolation inside the bucket, as PromQL's histogram_quantile does. */
  estimate: number;
  /** The bucket the quantile falls in: the true value lies in (lower, upper]. */
  lower: number;
  upper: number;
}

/** The q-quantile of cumulative buckets, or undefined when they hold no observation. */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): HistogramQuantile | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      // Above the highest finite bound nothing is known but the bound itself.
      if (b.le === Infinity) return { estimate: lower, lower, upper: Infinity };
      const inBucket = b.count - below;
      const estimate = inBucket > 0 ? lower + ((b.le - lower) * (rank - below)) / inBucket : b.le;
      return { estimate, lower, upper: b.le };
    }
    lower = b.le;
    below = b.count;
  }
  return undefined;
}

export interface GapReport {
  /** Scalers that completed at least one reconcile in the window. */
  scalersSeen: number;
  /** Scalers with no completed reconcile at all in the window. */
  scalersNeverReconciled: number;
  reconciles: number;
  /** Gaps longer than 2 × interval (including the window's edges), i.e. at least one interval missed. */
  missedIntervals: number;
  scalersWithMissedInterval: number;
  gapP50Ms: number | null;
  gapP99Ms: number | null;
  gapMaxMs: number | null;
}

/**
 * Gaps between a scaler's consecutive completed reconciles within [from, to]. The window's edges count
 * as gaps too (from the window's start to the first reconcile, from the last to its end), so a scaler
 * that stalls at the end is not missed. A gap longer than 2 × interval counts as one missed interval per
 * whole interval beyond the first: a healthy gap is interval + reconcile time + queue wait.
 */
export function reconcileGaps(
  times: Map<string, number[]>,
  expectedScalers: number,
  from: number,
  to: number,
  intervalMs: number,
): GapReport {
  const gaps: number[] = [];
  const missedIn = (gap: number) => (gap > 2 * intervalMs ? Math.floor(gap / intervalMs) - 1 : 0);
  let missed = 0;
  let scalersWithMissed = 0;
  let reconciles = 0;
  let seen = 0;
  for (const ts of times.values()) {
    const inWindow = ts.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
    reconciles += inWindow.length;
    if (inWindow.length > 0) seen++;
    const edges = [from, ...inWindow, to];
    let missedHere = 0;
    for (let i = 1; i < edges.length; i++) {
      const gap = edges[i] - edges[i - 1];
      // Window edges are partial gaps: only their lateness matters, not their length as a sample.
      if (i > 1 && i < edges.length - 1) gaps.push(gap);
      missedHere += missedIn(gap);
    }
    missed += missedHere;
    if (missedHere > 0) scalersWithMissed++;
  }
  // Scalers that never logged a reconcile at all missed every interval of the window.
  const absent = Math.max(0, expectedScalers - times.size);
  missed += absent * missedIn(to - from);
  if (missedIn(to - from) > 0) scalersWithMissed += absent;
  const never = expectedScalers - seen;
  gaps.sort((a, b) => a - b);
  const pick = (q: number) => (gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))] : null);
  return {
    scalersSeen: seen,
    scalersNeverReconciled: never,
    reconciles,
    missedIntervals: missed,
    scalersWithMissedInterval: scalersWithMissed,
    gapP50Ms: pick(0.5),
    gapP99Ms: pick(0.99),
    gapMaxMs: gaps.length ? gaps[gaps.length - 1] : null,
  };
}

/** utime + stime of a process in seconds, from the text of /proc/<pid>/stat. */
export function cpuSecondsFromStat(stat: string, clockTicksPerSecond = 100): number {
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** VmRSS in bytes, from the text of /proc/<pid>/status. */
export function rssBytesFromStatus(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** One audit event as the API server's log backend writes it (the fields the bench reads). */
export interface AuditEvent {
  verb: string;
  stage: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp: string;
}

/** Requests per `verb resource[/subresource]` received in [from, to], from audit events. */
export function countRequests(events: Iterable<AuditEvent>, from: number, to: number): { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const e of events) {
    if (e.stage !== 'ResponseComplete') continue;
    const t = Date.parse(e.requestReceivedTimestamp);
    if (t < from || t > to) continue;
    const resource = e.objectRef?.resource ? `${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}` : 'non-resource';
    const kind = `${e.verb} ${resource}`;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    total++;
  }
  return { total, byKind };
}

/** p-quantile (nearest rank) of plain numbers, or null when there are none. */
export function quantile(xs: number[], p: number): number | null {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : null;
}
