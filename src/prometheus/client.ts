// A small client for the Prometheus HTTP API: range and instant queries with per-request timeouts,
// retries with backoff for transient failures, and errors classified for status conditions.

import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { seriesFromPoints } from '../forecast/series.js';
import type { Series } from '../forecast/types.js';
import { authorizationHeader, type PrometheusAuth } from './auth.js';
import { splitRange } from './chunks.js';
import {
  PrometheusAuthError,
  PrometheusQueryError,
  PrometheusUnavailableError,
  redactUrl,
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

export interface PrometheusClientOptions {
  /** Prometheus' base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  baseUrl: string;
  http?: AxiosInstance;
  auth?: PrometheusAuth;
  /** Deadline of one HTTP request, connection to last byte. Default 30 s. */
  timeoutMs?: number;
  /** Extra attempts after a transient failure (network error, timeout, HTTP 5xx/429). Default 3. */
  retries?: number;
  /** Backoff before the first retry; doubles on each further retry, with jitter. Default 500 ms. */
  backoffMs?: number;
  /** Evaluation steps per series in one range request (Prometheus allows 11,000). Default 10,000. */
  maxPointsPerRequest?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** Called after every HTTP request with its duration, e.g. to feed a histogram. */
  onQuery?: (seconds: number, outcome: 'ok' | 'error') => void;
}

export interface RangeResult {
  series: RangeSeries[];
  /** Warnings Prometheus attached to the answer (e.g. about partial data). */
  warnings: string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 500;
const DEFAULT_MAX_POINTS = 10_000;
const MAX_BACKOFF_MS = 30_000;

type Attempt =
  | { kind: 'ok'; data: unknown; warnings: string[] }
  | { kind: 'transient'; reason: string }
  | { kind: 'fatal'; error: PrometheusError };

export class PrometheusClient {
  private readonly baseUrl: string;
  private readonly safeBaseUrl: string;
  private readonly http: AxiosInstance;
  private readonly authorization?: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxPoints: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onQuery?: (seconds: number, outcome: 'ok' | 'error') => void;

  constructor(options: PrometheusClientOptions) {
    if (!isHttpUrl(options.baseUrl)) {
      throw new Error('the Prometheus URL must be an absolute http:// or https:// URL, e.g. http://prometheus.monitoring:9090');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.safeBaseUrl = redactUrl(this.baseUrl);
    this.http = options.http ?? axios.create();
    this.authorization = options.auth ? authorizationHeader(options.auth) : undefined;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxPoints = options.maxPointsPerRequest ?? DEFAULT_MAX_POINTS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onQuery = options.onQuery;
  }

  /**
   * Evaluates `query` at startMs, startMs + stepMs, ... up to endMs. Long ranges are fetched in
   * several requests and stitched; every series keeps its labels, samples are in time order.
   */
  async queryRange(query: string, startMs: number, endMs: number, stepMs: number): Promise<RangeResult> {
    const merged = new Map<string, RangeSeries>();
    const warnings: string[] = [];
    for (const range of splitRange(startMs, endMs, stepMs, this.maxPoints)) {
      const answer = await this.call('/api/v1/query_range', query, {
        query,
        start: toSeconds(range.startMs),
        end: toSeconds(range.endMs),
        step: toSeconds(stepMs),
      });
      warnings.push(...answer.warnings);
      for (const series of this.parse(answer.data, parseMatrix)) appendSeries(merged, series);
    }
    return { series: [...merged.values()], warnings };
  }

  /**
   * One metric as a regular Series on the grid startMs + k * stepMs, NaN where there is no sample.
   * When the query returns several series they are summed per timestamp (a scaler's query should
   * aggregate itself, e.g. with sum(...)). NaN and ±Inf samples count as missing: a forecaster
   * treats them as gaps.
   */
  async queryRangeSeries(query: string, startMs: number, endMs: number, stepMs: number): Promise<Series> {
    const { series } = await this.queryRange(query, startMs, endMs, stepMs);
    return sumOntoGrid(series, startMs, endMs, stepMs);
  }

  /** Evaluates `query` at one instant (Prometheus' current time when timeMs is omitted). */
  async instantQuery(query: string, timeMs?: number): Promise<InstantSample[]> {
    const params: Record<string, string> = { query };
    if (timeMs !== undefined) params.time = toSeconds(timeMs);
    const answer = await this.call('/api/v1/query', query, params);
    const samples = this.parse(answer.data, parseInstant);
    if (!Array.isArray(samples)) {
      throw new PrometheusQueryError(
        `the query returns a ${samples.unsupported}, expected an instant vector or a scalar`,
        query,
      );
    }
    return samples;
  }

  /**
   * The latest value of one metric: the sum of the finite values of every returned series, or
   * undefined when there is none (no data).
   */
  async instantValue(query: string, timeMs?: number): Promise<number | undefined> {
    const finite = (await this.instantQuery(query, timeMs)).filter((s) => Number.isFinite(s.value));
    return finite.length === 0 ? undefined : finite.reduce((sum, s) => sum + s.value, 0);
  }

  private parse<T>(data: unknown, parser: (data: unknown) => T): T {
    try {
      return parser(data);
    } catch (error) {
      if (error instanceof MalformedResponseError) {
        throw new PrometheusUnavailableError(this.safeBaseUrl, `unexpected answer (${error.message})`, 1);
      }
      throw error;
    }
  }

  private async call(path: string, query: string, params: Record<string, string>) {
    const url = `${this.baseUrl}${path}`;
    const safeUrl = `${this.safeBaseUrl.replace(/\/+$/, '')}${path}`;
    let lastReason = '';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await this.sleep(this.backoffBefore(attempt));
      const started = performance.now();
      const outcome = await this.attempt(url, safeUrl, query, params);
      this.onQuery?.((performance.now() - started) / 1000, outcome.kind === 'ok' ? 'ok' : 'error');
      if (outcome.kind === 'ok') return outcome;
      if (outcome.kind === 'fatal') throw outcome.error;
      lastReason = outcome.reason;
    }
    throw new PrometheusUnavailableError(safeUrl, lastReason, this.retries + 1);
  }

  private async attempt(
    url: string,
    safeUrl: string,
    query: string,
    params: Record<string, string>,
  ): Promise<Attempt> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (this.authorization) headers.Authorization = this.authorization;
    let response: AxiosResponse;
    try {
      response = await this.http.request({
        method: 'POST',
        url,
        data: new URLSearchParams(params).toString(),
        headers,
        timeout: this.timeoutMs,
        // axios' own timeout only watches for an idle socket; the signal bounds the whole exchange.
        signal: AbortSignal.timeout(this.timeoutMs),
        validateStatus: () => true,
        responseType: 'json',
      });
    } catch (error) {
      return { kind: 'transient', reason: this.describeTransportError(error) };
    }
    return classifyResponse(response, safeUrl, query);
  }

  private backoffBefore(retry: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (retry - 1));
    // "Equal jitter": half fixed, half random, so clients that failed together do not retry together.
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  private describeTransportError(error: unknown): string {
    const code = (error as { code?: unknown })?.code;
    switch (code) {
      case 'ECONNABORTED':
      case 'ETIMEDOUT':
      case 'ERR_CANCELED':
        return `no answer within ${this.timeoutMs} ms`;
      case 'ECONNREFUSED':
        return 'connection refused';
      case 'ECONNRESET':
        return 'connection reset';
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return 'host name not resolved';
      default:
        // Only the code or the message: an AxiosError also holds the request config and headers.
        return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
    }
  }
}

function classifyResponse(response: AxiosResponse, safeUrl: string, query: string): Attempt {
  const { status } = response;
  const body = response.data as { status?: unknown; data?: unknown; error?: unknown; errorType?: unknown; warnings?: unknown };
  if (status === 200 && body?.status === 'success') {
    const warnings = Array.isArray(body.warnings) ? body.warnings.map(String) : [];
    return { kind: 'ok', data: body.data, warnings };
  }
  const apiError = typeof body?.error === 'string' ? body.error : undefined;
  const errorType = typeof body?.errorType === 'string' ? body.errorType : undefined;
  if (status === 400 || status === 422) {
    return {
      kind: 'fatal',
      error: new PrometheusQueryError(apiError ?? `HTTP ${status}: ${excerpt(response.data)}`, query, status, errorType),
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

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function excerpt(data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data) ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
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
