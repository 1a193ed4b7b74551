// Failures of Prometheus queries, classified so callers can pick a condition reason.
// Messages never contain credentials: URLs are shown without user info and no header is echoed.

export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Prometheus rejected the query itself (HTTP 400/422): the message carries Prometheus' own text. */
export class PrometheusQueryError extends PrometheusError {
  constructor(
    readonly prometheusMessage: string,
    readonly query: string,
    readonly status?: number,
    readonly errorType?: string,
  ) {
    super(`Prometheus rejected the query: ${prometheusMessage}`);
  }
}

/** Prometheus could not be reached or kept failing (network, timeout, HTTP 5xx/429) after retries. */
export class PrometheusUnavailableError extends PrometheusError {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(`Prometheus at ${url} is unavailable: ${reason} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}

/** The query selects more series than one scaler metric may read: it should aggregate them. */
export class PrometheusTooManySeriesError extends PrometheusError {
  constructor(
    readonly query: string,
    readonly seriesCount: number,
    readonly maxSeries: number,
  ) {
    super(
      `the query returns ${seriesCount} series (at most ${maxSeries} are read): ` +
        'aggregate it with sum(), e.g. sum(rate(http_requests_total{service="web"}[1m]))',
    );
  }
}

/** The answer was larger than the client reads (on the wire or after decompression). */
export class PrometheusResponseTooLargeError extends PrometheusError {
  constructor(
    readonly url: string,
    readonly detail: string,
  ) {
    super(
      `Prometheus at ${url}: ${detail}: aggregate the query with sum(), or shorten forecast.history or lengthen forecast.step`,
    );
  }
}

/** The server answered with a redirect, which is never followed (it could lead anywhere). */
export class PrometheusRedirectError extends PrometheusError {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(
      `Prometheus at ${url} answered with a redirect (HTTP ${status}); redirects are not followed: ` +
        'name the final address in spec.prometheus.url (or the operator\'s --prometheus-url)',
    );
  }
}

/** Prometheus (or a proxy in front of it) refused the credentials (HTTP 401/403). */
export class PrometheusAuthError extends PrometheusError {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(
      `Prometheus at ${url} answered HTTP ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}: ` +
        'check the Secret named in spec.prometheus.authSecretRef (key "token", or "username" and "password")',
    );
  }
}

/**
 * Text from a remote server made safe to show in status, Events and logs: control characters
 * removed, whitespace folded, at most `max` characters.
 */
export function sanitizeRemoteText(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** The URL as safe to show: without user info, query string or fragment. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}
