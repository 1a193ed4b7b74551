// Which Prometheus URLs a PredictiveScaler may name (spec.prometheus.url). The operator sends
// queries, and possibly credentials, wherever that field points, so a tenant may only pick among
// the prefixes the cluster admin listed (--prometheus-url-allowlist); by default only the operator's
// own --prometheus-url.

export class UrlAllowlist {
  private readonly prefixes: URL[];

  /**
   * Throws naming the entry when one is not an absolute http(s) URL. Credentials, query and fragment
   * of an entry (the admin's own --prometheus-url may carry them) take no part in the match.
   */
  constructor(entries: readonly string[]) {
    this.prefixes = entries.map((entry) => {
      let url: URL;
      try {
        url = new URL(entry.trim());
      } catch {
        throw new Error(`Prometheus URL allowlist entry "${entry}" is not an absolute URL`);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
        throw new Error(`Prometheus URL allowlist entry "${entry}" must be an http:// or https:// URL with a host`);
      }
      url.username = '';
      url.password = '';
      url.search = '';
      url.hash = '';
      return url;
    });
  }

  /** The allowed prefixes, for messages. */
  describe(): string {
    return this.prefixes.length === 0 ? '(none)' : this.prefixes.map((p) => stripTrailingSlash(p.href)).join(', ');
  }

  /**
   * Whether `url` (already parsed) lies under an allowed prefix: same scheme, host and port, and a
   * path equal to the prefix's path or below it at a segment boundary.
   */
  allows(url: URL): boolean {
    return this.prefixes.some((prefix) => {
      if (prefix.protocol !== url.protocol || prefix.hostname !== url.hostname || effectivePort(prefix) !== effectivePort(url)) return false;
      const base = stripTrailingSlash(prefix.pathname);
      const path = stripTrailingSlash(url.pathname);
      return base === '' || path === base || path.startsWith(`${base}/`);
    });
  }
}

/**
 * A Prometheus base URL as the operator accepts it, or the reason it does not: absolute http(s), a
 * host, no user info (credentials belong in a Secret), no query or fragment, no dot segments left
 * after normalisation.
 */
export function parsePrometheusUrl(text: string): URL | string {
  if (text.length > 2048) return 'is longer than 2048 characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL, e.g. http://prometheus.monitoring:9090';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.hostname === '') return 'has no host';
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password: put credentials in a Secret (spec.prometheus.authSecretRef)';
  if (url.search !== '' || url.hash !== '') return 'must not have a query string or fragment';
  return url;
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function stripTrailingSlash(path: string): string {
  return path.replace(/\/+$/, '');
}
