// A small client for the Prometheus HTTP API: range and instant queries with per-request timeouts,
// retries with backoff for transient failures, and errors classified for status conditions.

import { seriesFromPoints } from '../forecast/series.js';
import type { Series } from '../forecast/types.js';
import { authorizationHeader, type PrometheusAuth } from './auth.js';
import { splitRange } from './chunks.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import {
  PrometheusAuthError,
  PrometheusQueryError,
  PrometheusRedirectError,
  PrometheusResponseTooLargeError,
  PrometheusTooManySeriesError,
  PrometheusUnavailableError,
  redactUrl,
  sanitizeRemoteText,
  type PrometheusError,
} from './errors.js';
import {
  labelsKey,
  MalformedResponseError,
  parseInstant,
  parseMatrix,
  type InstantSample,
  type RangeSeries,
} from './response.js';
import { post, TransportError, type PostResponse } from './transport.js';

export interface PrometheusClientOptions {
  /** Prometheus' base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  baseUrl: string;
  auth?: PrometheusAuth;
  /** Deadline of one HTTP request, connection to last byte. Default 15 s. */
  timeoutMs?: number;
  /** Extra attempts after a transient failure (network error, timeout, HTTP 5xx/429). Default 3. */
  retries?: number;
  /** Backoff before the first retry; doubles on each further retry, with jitter. Default 500 ms. */
  backoffMs?: number;
  /** Evaluation steps per series in one range request (Prometheus allows 11,000). Default 10,000. */
  maxPointsPerRequest?: number;
  /** Series one query may return; more is an error asking to aggregate. Default 50. */
  maxSeries?: number;
  /** Largest answer read, on the wire and after decompression. Default 8 MiB. */
  maxResponseBytes?: number;
  /** Shared by every client of one URL: fails calls fast while the server is known to be down. */
  breaker?: CircuitBreaker;
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Called after every HTTP request with its duration, e.g. to feed a histogram. */
  onQuery?: (seconds: number, outcome: 'ok' | 'error') => void;
}

/** Per call: `signal` ends the call early (the reconcile's deadline); a pending retry is not made. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface RangeResult {
  series: RangeSeries[];
  /** Warnings Prometheus attached to the answer (e.g. about partial data). */
  warnings: string[];
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 500;
const DEFAULT_MAX_POINTS = 10_000;
const DEFAULT_MAX_SERIES = 50;
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const MAX_BACKOFF_MS = 30_000;

type Attempt =
  | { kind: 'ok'; data: unknown; warnings: string[] }
  /** `slow`: the server held the call until a deadline, which is what the circuit breaker guards against. */
  | { kind: 'transient'; reason: string; slow?: boolean; aborted?: boolean }
  | { kind: 'fatal'; error: PrometheusError };

export class PrometheusClient {
  private readonly baseUrl: string;
  private readonly safeBaseUrl: string;
  private readonly authorization?: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxPoints: number;
  private readonly maxSeries: number;
  private readonly maxResponseBytes: number;
  private readonly breaker?: CircuitBreaker;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onQuery?: (seconds: number, outcome: 'ok' | 'error') => void;

  constructor(options: PrometheusClientOptions) {
    if (!isHttpUrl(options.baseUrl)) {
      throw new Error('the Prometheus URL must be an absolute http:// or https:// URL, e.g. http://prometheus.monitoring:9090');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.safeBaseUrl = redactUrl(this.baseUrl);
    this.authorization = options.auth ? authorizationHeader(options.auth) : undefined;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxPoints = options.maxPointsPerRequest ?? DEFAULT_MAX_POINTS;
    this.maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.breaker = options.breaker;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onQuery = options.onQuery;
  }

  /**
   * Evaluates `query` at startMs, startMs + stepMs, ... up to endMs. Long ranges are fetched in
   * several requests and stitched; every series keeps its labels, samples are in time order.
   */
  async queryRange(query: string, startMs: number, endMs: number, stepMs: number, options: CallOptions = {}): Promise<RangeResult> {
    const merged = new Map<string, RangeSeries>();
    const warnings: string[] = [];
    for (const range of splitRange(startMs, endMs, stepMs, this.maxPoints)) {
      const answer = await this.call('/api/v1/query_range', query, {
        query,
        start: toSeconds(range.startMs),
        end: toSeconds(range.endMs),
        step: toSeconds(stepMs),
      }, options);
      warnings.push(...answer.warnings.slice(0, 10).map((w) => sanitizeRemoteText(w)));
      const series = this.parse(answer.data, parseMatrix);
      this.checkSeriesCount(query, series.length);
      for (const s of series) appendSeries(merged, s);
      this.checkSeriesCount(query, merged.size);
    }
    return { series: [...merged.values()], warnings: warnings.slice(0, 10) };
  }

  /**
   * One metric as a regular Series on the grid startMs + k * stepMs, NaN where there is no sample.
   * When the query returns several series they are summed per timestamp (a scaler's query should
   * aggregate itself, e.g. with sum(...)). NaN and ±Inf samples count as missing: a forecaster
   * treats them as gaps.
   */
  async queryRangeSeries(query: string, startMs: number, endMs: number, stepMs: number, options: CallOptions = {}): Promise<Series> {
    const { series } = await this.queryRange(query, startMs, endMs, stepMs, options);
    return sumOntoGrid(series, startMs, endMs, stepMs);
  }

  /** Evaluates `query` at one instant (Prometheus' current time when timeMs is omitted). */
  async instantQuery(query: string, timeMs?: number, options: CallOptions = {}): Promise<InstantSample[]> {
    const params: Record<string, string> = { query };
    if (timeMs !== undefined) params.time = toSeconds(timeMs);
    const answer = await this.call('/api/v1/query', query, params, options);
    const samples = this.parse(answer.data, parseInstant);
    if (!Array.isArray(samples)) {
      throw new PrometheusQueryError(
        `the query returns a ${samples.unsupported}, expected an instant vector or a scalar`,
        query,
      );
    }
    this.checkSeriesCount(query, samples.length);
    return samples;
  }

  /**
   * The latest value of one metric: the sum of the finite values of every returned series, or
   * undefined when there is none (no data).
   */
  async instantValue(query: string, timeMs?: number, options: CallOptions = {}): Promise<number | undefined> {
    const finite = (await this.instantQuery(query, timeMs, options)).filter((s) => Number.isFinite(s.value));
    return finite.length === 0 ? undefined : finite.reduce((sum, s) => sum + s.value, 0);
  }

  private checkSeriesCount(query: string, count: number): void {
    if (count > this.maxSeries) throw new PrometheusTooManySeriesError(query, count, this.maxSeries);
  }

  private parse<T>(data: unknown, parser: (data: unknown) => T): T {
    try {
      return parser(data);
    } catch (error) {
      if (error instanceof MalformedResponseError) {
        throw new PrometheusUnavailableError(this.safeBaseUrl, `unexpected answer (${sanitizeRemoteText(error.message, 100)})`, 1);
      }
      throw error;
    }
  }

  private async call(path: string, query: string, params: Record<string, string>, options: CallOptions) {
    const url = new URL(`${this.baseUrl}${path}`);
    const safeUrl = `${this.safeBaseUrl.replace(/\/+$/, '')}${path}`;
    const admission = this.breaker?.admit() ?? { admitted: true };
    if (!admission.admitted) {
      const next = Math.ceil(admission.retryInMs / 1000);
      throw new PrometheusUnavailableError(
        safeUrl,
        `not tried: the last call failed (${admission.lastFailure})${next > 0 ? `; next attempt in ${next}s` : '; another call is probing it'}`,
        0,
      );
    }
    let lastReason = '';
    let lastWasSlow = false;
    let attempts = 0;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await this.sleepUnlessAborted(this.backoffBefore(attempt), options.signal);
      if (options.signal?.aborted) {
        lastReason ||= 'the reconcile deadline passed';
        break;
      }
      attempts++;
      const started = performance.now();
      let outcome: Attempt;
      try {
        outcome = await this.attempt(url, safeUrl, query, params, options.signal);
      } catch (error) {
        // Not an answer and not a transport failure: a bug; the circuit must not stay half-open.
        this.breaker?.failure('internal error');
        throw error;
      }
      this.onQuery?.((performance.now() - started) / 1000, outcome.kind === 'ok' ? 'ok' : 'error');
      if (outcome.kind === 'ok') {
        this.breaker?.success();
        return outcome;
      }
      if (outcome.kind === 'fatal') {
        // The server answered, if not usefully: that is no reason to stop calling it.
        this.breaker?.success();
        throw outcome.error;
      }
      lastReason = outcome.reason;
      lastWasSlow = outcome.slow === true;
      if (outcome.aborted) break;
    }
    // A server that refuses or fails fast costs a worker little and may be back at the next interval;
    // one that holds calls until they time out is kept away from the workers for a while.
    if (lastWasSlow) this.breaker?.failure(lastReason);
    else this.breaker?.success();
    throw new PrometheusUnavailableError(safeUrl, lastReason, attempts);
  }

  private async attempt(
    url: URL,
    safeUrl: string,
    query: string,
    params: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (this.authorization) headers.Authorization = this.authorization;
    let response: PostResponse;
    try {
      response = await post(url, {
        headers,
        body: new URLSearchParams(params).toString(),
        timeoutMs: this.timeoutMs,
        signal,
        maxWireBytes: this.maxResponseBytes,
        maxBodyBytes: this.maxResponseBytes,
      });
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      if (error.kind === 'tooLarge') return { kind: 'fatal', error: new PrometheusResponseTooLargeError(this.safeBaseUrl, error.detail) };
      const slow = error.kind === 'timeout' || error.kind === 'aborted';
      return { kind: 'transient', reason: error.detail, slow, aborted: error.kind === 'aborted' };
    }
    return classifyResponse(response, safeUrl, query);
  }

  private backoffBefore(retry: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (retry - 1));
    // "Equal jitter": half fixed, half random, so clients that failed together do not retry together.
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  private sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms);
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.sleep(ms).then(done, done);
    });
  }
}

function classifyResponse(response: PostResponse, safeUrl: string, query: string): Attempt {
  const { status } = response;
  if (status >= 300 && status < 400) return { kind: 'fatal', error: new PrometheusRedirectError(safeUrl, status) };
  const body = parseBody(response) as { status?: unknown; data?: unknown; error?: unknown; errorType?: unknown; warnings?: unknown } | undefined;
  if (status === 200 && body?.status === 'success') {
    const warnings = Array.isArray(body.warnings) ? body.warnings.map(String) : [];
    return { kind: 'ok', data: body.data, warnings };
  }
  // Only Prometheus' own error text is ever shown, shortened and cleaned; other bodies never are.
  const apiError = typeof body?.error === 'string' ? sanitizeRemoteText(body.error) : undefined;
  const errorType = typeof body?.errorType === 'string' ? sanitizeRemoteText(body.errorType, 40) : undefined;
  if (status === 400 || status === 422) {
    return {
      kind: 'fatal',
      error: new PrometheusQueryError(apiError ?? `HTTP ${status} without a Prometheus error message`, query, status, errorType),
    };
  }
  if (status === 401 || status === 403) return { kind: 'fatal', error: new PrometheusAuthError(safeUrl, status) };
  if (status === 429 || status >= 500) {
    return { kind: 'transient', reason: `HTTP ${status}${apiError ? `: ${apiError}` : ''}` };
  }
  const reason =
    status === 200
      ? 'the answer is not from the Prometheus HTTP API'
      : `HTTP ${status} (is this the Prometheus base URL?)`;
  return { kind: 'fatal', error: new PrometheusUnavailableError(safeUrl, reason, 1) };
}

function parseBody(response: PostResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function toSeconds(ms: number): string {
  return String(ms / 1000);
}

function appendSeries(merged: Map<string, RangeSeries>, series: RangeSeries): void {
  const key = labelsKey(series.labels);
  const existing = merged.get(key);
  if (!existing) {
    merged.set(key, { labels: series.labels, samples: [...series.samples] });
    return;
  }
  // Chunks do not overlap, but a sample at or before the last one kept is never repeated.
  const lastTs = existing.samples.length > 0 ? existing.samples[existing.samples.length - 1][0] : -Infinity;
  for (const sample of series.samples) if (sample[0] > lastTs) existing.samples.push(sample);
}

function sumOntoGrid(series: RangeSeries[], startMs: number, endMs: number, stepMs: number): Series {
  const total = seriesFromPoints([], startMs, endMs, stepMs);
  for (const { samples } of series) {
    const grid = seriesFromPoints(samples, startMs, endMs, stepMs);
    grid.values.forEach((value, i) => {
      if (Number.isNaN(value)) return;
      total.values[i] = Number.isNaN(total.values[i]) ? value : total.values[i] + value;
    });
  }
  return total;
}
