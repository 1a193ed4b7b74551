// Hands out a Prometheus client per (URL, auth Secret): the operator's --prometheus-url unless the
// scaler names its own, with credentials read from a Secret in the scaler's namespace.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ScalerConfig } from '../api/config.js';
import { authFromSecretData, type PrometheusAuth } from '../prometheus/auth.js';
import { PrometheusClient, type PrometheusClientOptions } from '../prometheus/client.js';
import { apiErrorMessage, isForbidden, isNotFound } from '../kube/errors.js';

export type SecretReader = (namespace: string, name: string) => Promise<{ data?: Record<string, string>; resourceVersion?: string }>;

export function kubeSecretReader(kc: KubeConfig): SecretReader {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name) => {
    const s = await core.readNamespacedSecret({ name, namespace });
    return { data: s.data, resourceVersion: s.metadata?.resourceVersion };
  };
}

/** A user-fixable problem with spec.prometheus (missing URL, missing or unreadable Secret). */
export class PrometheusConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrometheusConfigError';
  }
}

export interface PrometheusProviderOptions {
  defaultUrl?: string;
  readSecret: SecretReader;
  clientOptions?: Omit<PrometheusClientOptions, 'baseUrl' | 'auth'>;
}

export class PrometheusProvider {
  private readonly clients = new Map<string, PrometheusClient>();

  constructor(private readonly opts: PrometheusProviderOptions) {}

  async clientFor(namespace: string, cfg: ScalerConfig): Promise<PrometheusClient> {
    const url = cfg.prometheus.url ?? this.opts.defaultUrl;
    if (!url) {
      throw new PrometheusConfigError('no Prometheus URL: set spec.prometheus.url or start the operator with --prometheus-url');
    }
    const secretName = cfg.prometheus.authSecretName;
    if (!secretName) return this.cached(url, undefined);
    let secret;
    try {
      secret = await this.opts.readSecret(namespace, secretName);
    } catch (err) {
      if (isNotFound(err)) throw new PrometheusConfigError(`Secret ${namespace}/${secretName} (spec.prometheus.authSecretRef) does not exist`);
      if (isForbidden(err)) {
        throw new PrometheusConfigError(`the operator may not read Secret ${namespace}/${secretName}: ${apiErrorMessage(err)}`);
      }
      throw err;
    }
    let auth;
    try {
      auth = authFromSecretData(secret.data);
    } catch (err) {
      throw new PrometheusConfigError(`Secret ${namespace}/${secretName}: ${(err as Error).message}`);
    }
    return this.cached(`${url}|${namespace}/${secretName}@${secret.resourceVersion ?? ''}`, auth, url);
  }

  private cached(key: string, auth: PrometheusAuth | undefined, url = key): PrometheusClient {
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size > 1000) this.clients.clear();
      client = new PrometheusClient({ ...this.opts.clientOptions, baseUrl: url, auth });
      this.clients.set(key, client);
    }
    return client;
  }
}
