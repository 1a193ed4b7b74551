// Hands out the Prometheus source of one scaler: the operator's --prometheus-url unless the scaler
// names its own, which must lie under the operator's allowlist; credentials from a Secret in the
// scaler's namespace only when the operator allows auth Secrets and the Secret opts in by label; with
// namespace enforcement, every query rewritten to read only the scaler's own namespace's series.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ScalerConfig } from '../api/config.js';
import { authFromSecretData, type PrometheusAuth } from '../prometheus/auth.js';
import { CircuitBreaker } from '../prometheus/circuit-breaker.js';
import { PrometheusClient, type CallOptions, type PrometheusClientOptions } from '../prometheus/client.js';
import { enforceLabel } from '../prometheus/enforce-label.js';
import { redactUrl } from '../prometheus/errors.js';
import { parsePrometheusUrl, UrlAllowlist } from '../prometheus/url-allowlist.js';
import { GROUP } from '../api/types.js';
import { isForbidden, isNotFound } from '../kube/errors.js';
import type { RangeSource } from './history-cache.js';

/** The label a Secret must carry (value "true") before the operator uses it for Prometheus auth. */
export const PROMETHEUS_AUTH_LABEL = `${GROUP}/prometheus-auth`;

export interface SecretData {
  data?: Record<string, string>;
  labels?: Record<string, string>;
  resourceVersion?: string;
}

/** Reads a Secret, or undefined when it cannot be had (missing or forbidden: both look the same). */
export type SecretReader = (namespace: string, name: string) => Promise<SecretData | undefined>;

export function kubeSecretReader(kc: KubeConfig): SecretReader {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name) => {
    try {
      const s = await core.readNamespacedSecret({ name, namespace });
      return { data: s.data, labels: s.metadata?.labels, resourceVersion: s.metadata?.resourceVersion };
    } catch (err) {
      if (isNotFound(err) || isForbidden(err)) return undefined;
      throw err;
    }
  };
}

/** A user-fixable problem with spec.prometheus (URL not allowed, Secret not usable). */
export class PrometheusConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusConfigError';
  }
}

export interface PrometheusProviderOptions {
  defaultUrl?: string;
  /** URL prefixes spec.prometheus.url may name; default: the default URL alone. */
  allowlist?: readonly string[];
  /** Whether spec.prometheus.authSecretRef is honoured at all (--prometheus-auth-secrets). */
  authSecrets?: boolean;
  readSecret?: SecretReader;
  /** A label every selector of every query is given, valued with the scaler's namespace. */
  enforceNamespaceLabel?: string;
  now?: () => number;
  clientOptions?: Omit<PrometheusClientOptions, 'baseUrl' | 'auth' | 'breaker'>;
}

const MAX_CACHED = 1000;

export class PrometheusProvider {
  private readonly clients = new Map<string, PrometheusClient>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly allowlist: UrlAllowlist;
  private readonly now: () => number;

  constructor(private readonly opts: PrometheusProviderOptions) {
    const entries = opts.allowlist ?? (opts.defaultUrl ? [opts.defaultUrl] : []);
    this.allowlist = new UrlAllowlist(entries);
    this.now = opts.now ?? Date.now;
  }

  async clientFor(namespace: string, cfg: ScalerConfig): Promise<RangeSource> {
    const url = this.urlFor(cfg);
    const secretName = cfg.prometheus.authSecretName;
    const auth = secretName === undefined ? undefined : await this.authFrom(namespace, secretName);
    const client = this.cached(url, auth, namespace, secretName);
    const label = this.opts.enforceNamespaceLabel;
    if (label === undefined) return client;
    return {
      // enforceLabel throws PromQLEnforceError for a query it cannot confine; the reconciler reports it.
      queryRangeSeries: async (query: string, startMs: number, endMs: number, stepMs: number, options?: CallOptions) =>
        client.queryRangeSeries(enforceLabel(query, label, namespace), startMs, endMs, stepMs, options),
    };
  }

  private urlFor(cfg: ScalerConfig): string {
    const own = cfg.prometheus.url;
    if (own === undefined) {
      if (!this.opts.defaultUrl) {
        throw new PrometheusConfigError('no Prometheus URL: set spec.prometheus.url or start the operator with --prometheus-url');
      }
      return this.opts.defaultUrl;
    }
    const parsed = parsePrometheusUrl(own);
    if (typeof parsed === 'string') throw new PrometheusConfigError(`spec.prometheus.url ${parsed}`);
    if (!this.allowlist.allows(parsed)) {
      throw new PrometheusConfigError(
        `spec.prometheus.url ${redactUrl(own)} is not allowed by this operator (allowed: ${this.allowlist.describe()}); ` +
          'remove the field to use the operator\'s Prometheus, or ask the cluster admin to add it to --prometheus-url-allowlist',
      );
    }
    return own;
  }

  private async authFrom(namespace: string, secretName: string): Promise<{ auth: PrometheusAuth; version: string }> {
    if (!this.opts.authSecrets || !this.opts.readSecret) {
      throw new PrometheusConfigError(
        'spec.prometheus.authSecretRef is set, but this operator does not read auth Secrets: remove the field, or ask the cluster admin to start it with --prometheus-auth-secrets',
      );
    }
    // A missing, forbidden and unlabelled Secret read alike: status must not tell a tenant which
    // Secrets exist.
    const unusable = new PrometheusConfigError(
      `Secret ${namespace}/${secretName} (spec.prometheus.authSecretRef) cannot be used: it must exist in the scaler's namespace and carry the label ${PROMETHEUS_AUTH_LABEL}: "true"`,
    );
    const secret = await this.opts.readSecret(namespace, secretName);
    if (secret === undefined || secret.labels?.[PROMETHEUS_AUTH_LABEL] !== 'true') throw unusable;
    try {
      return { auth: authFromSecretData(secret.data), version: secret.resourceVersion ?? '' };
    } catch (err) {
      throw new PrometheusConfigError(`Secret ${namespace}/${secretName}: ${(err as Error).message}`);
    }
  }

  private cached(url: string, credentials: { auth: PrometheusAuth; version: string } | undefined, namespace: string, secretName?: string): PrometheusClient {
    const key = credentials ? `${url}|${namespace}/${secretName}@${credentials.version}` : url;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= MAX_CACHED) this.clients.clear();
      client = new PrometheusClient({ ...this.opts.clientOptions, baseUrl: url, auth: credentials?.auth, breaker: this.breakerFor(url) });
      this.clients.set(key, client);
    }
    return client;
  }

  /** One breaker per server, shared by every scaler and credential that names it. */
  private breakerFor(url: string): CircuitBreaker {
    const key = redactUrl(url);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      if (this.breakers.size >= MAX_CACHED) this.breakers.clear();
      breaker = new CircuitBreaker({ now: this.now });
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}
