import { describe, expect, it } from 'vitest';
import { bucketDelta, countRequests, cpuSecondsFromStat, histogramBuckets, histogramQuantile, parseExposition, reconcileGaps, rssBytesFromStatus, sumOf } from './measure.js';

const EXPOSITION = `# HELP x_seconds A histogram.
# TYPE x_seconds histogram
x_seconds_bucket{le="0.1"} 50
x_seconds_bucket{le="0.2"} 90
x_seconds_bucket{le="+Inf"} 100
x_seconds_sum 12.5
x_seconds_count 100
reqs_total{handler="/api/v1/query_range",code="200"} 7
reqs_total{handler="/api/v1/query_range",code="400"} 2
reqs_total{handler="/api/v1/query",code="200"} 1
`;

describe('Prometheus exposition', () => {
  it('sums the samples whose labels match', () => {
    const samples = parseExposition(EXPOSITION);
    expect(sumOf(samples, 'reqs_total', { handler: '/api/v1/query_range' })).toBe(9);
    expect(sumOf(samples, 'x_seconds_count')).toBe(100);
  });

  it('interpolates a quantile inside its bucket and names the bucket', () => {
    const buckets = histogramBuckets(parseExposition(EXPOSITION), 'x_seconds');
    expect(histogramQuantile(0.5, buckets)).toEqual({ estimate: 0.1, lower: 0, upper: 0.1 });
    const p70 = histogramQuantile(0.7, buckets)!;
    expect(p70.estimate).toBeCloseTo(0.15, 10);
    expect([p70.lower, p70.upper]).toEqual([0.1, 0.2]);
    // Above the highest finite bound only that bound is known.
    expect(histogramQuantile(0.99, buckets)).toEqual({ estimate: 0.2, lower: 0.2, upper: Infinity });
  });

  it('takes quantiles of what was observed between two scrapes only', () => {
    const before = [{ le: 0.1, count: 40 }, { le: 0.2, count: 40 }, { le: Infinity, count: 40 }];
    const after = [{ le: 0.1, count: 40 }, { le: 0.2, count: 50 }, { le: Infinity, count: 50 }];
    const delta = bucketDelta(before, after);
    expect(delta.map((b) => b.count)).toEqual([0, 10, 10]);
    expect(histogramQuantile(0.5, delta)!.estimate).toBeCloseTo(0.15, 10);
    expect(histogramQuantile(0.5, bucketDelta(after, after))).toBeUndefined();
  });
});

describe('reconcileGaps', () => {
  const S = 1000;
  const every = (start: number, end: number, step: number) => Array.from({ length: Math.floor((end - start) / step) + 1 }, (_, i) => start + i * step);

  it('counts nothing missed for scalers reconciled every interval plus a little', () => {
    const times = new Map([
      ['a', every(1 * S, 300 * S, 31 * S)],
      ['b', every(5 * S, 300 * S, 32 * S)],
    ]);
    const r = reconcileGaps(times, 2, 0, 300 * S, 30 * S);
    expect(r.missedIntervals).toBe(0);
    expect(r.scalersWithMissedInterval).toBe(0);
    expect(r.scalersSeen).toBe(2);
    expect(r.gapMaxMs).toBe(32 * S);
  });

  it('counts a long gap, a stall at the end of the window, and a scaler never reconciled', () => {
    const times = new Map([
      ['late', [10 * S, 40 * S, 140 * S, 170 * S, 200 * S, 230 * S, 260 * S, 290 * S]], // 100 s gap: 2 missed
      ['stalled', [10 * S, 40 * S, 70 * S]], // then nothing for 230 s: 6 missed
    ]);
    const r = reconcileGaps(times, 3, 0, 300 * S, 30 * S);
    // The absent third scaler missed 300 / 30 - 1 = 9.
    expect(r.missedIntervals).toBe(2 + 6 + 9);
    expect(r.scalersWithMissedInterval).toBe(3);
    expect(r.scalersNeverReconciled).toBe(1);
    expect(r.reconciles).toBe(11);
  });
});

describe('/proc and audit parsing', () => {
  it('reads utime + stime after a command name holding spaces and parentheses', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 200';
    expect(cpuSecondsFromStat(stat, 100)).toBe(3);
  });

  it('reads VmRSS in bytes', () => {
    expect(rssBytesFromStatus('Name:\tnode\nVmRSS:\t  204800 kB\nThreads: 11\n')).toBe(200 * 2 ** 20);
  });

  it('counts finished requests in the window by verb and resource', () => {
    const at = (t: string) => `2026-01-01T00:00:${t}Z`;
    const events = [
      { verb: 'get', stage: 'ResponseComplete', objectRef: { resource: 'deployments', subresource: 'scale' }, requestReceivedTimestamp: at('10.000000') },
      { verb: 'get', stage: 'ResponseComplete', objectRef: { resource: 'deployments', subresource: 'scale' }, requestReceivedTimestamp: at('20.000000') },
      { verb: 'update', stage: 'ResponseComplete', objectRef: { resource: 'predictivescalers', subresource: 'status' }, requestReceivedTimestamp: at('30.000000') },
      { verb: 'get', stage: 'ResponseComplete', objectRef: { resource: 'deployments', subresource: 'scale' }, requestReceivedTimestamp: at('59.000000') },
      { verb: 'watch', stage: 'ResponseStarted', objectRef: { resource: 'pods' }, requestReceivedTimestamp: at('15.000000') },
    ];
    const r = countRequests(events, Date.parse(at('00')), Date.parse(at('45')));
    expect(r).toEqual({ total: 3, byKind: { 'get deployments/scale': 2, 'update predictivescalers/status': 1 } });
  });
});
