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
