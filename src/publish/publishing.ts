// Starts what `mode: Publish` serves, as the operator's flags ask: the KEDA external scaler (gRPC)
// and the external metrics API (HTTPS, aggregated). Every replica serves, from its own informer.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { parseBindAddress, type BoundAddress } from '../observability/server.js';
import { loadServingCertificate } from '../observability/serving-cert.js';
import { startExternalMetricsServer, type ExternalMetricsServer } from './external-metrics.js';
import { startKedaScaler } from './keda-scaler.js';
import { kubeFrontProxyAuth, kubeResourceReview } from './kube-auth.js';
import { cachePublishedSource } from './source.js';

export interface PublishingOptions {
  kubeConfig: KubeConfig;
  scalers: Parameters<typeof cachePublishedSource>[0];
  keda: { address: string; certDir?: string };
  externalMetrics: { address: string; certDir?: string };
  metrics: Pick<OperatorMetrics, 'publishedRequests'>;
  logger: Logger;
  now: () => number;
}

export interface Publishing {
  keda?: BoundAddress;
  externalMetrics?: BoundAddress;
  close(): Promise<void>;
}

export async function startPublishing(o: PublishingOptions): Promise<Publishing> {
  const kedaOn = parseBindAddress(o.keda.address) !== undefined;
  const externalOn = parseBindAddress(o.externalMetrics.address) !== undefined;
  if (!kedaOn && !externalOn) return { close: async () => {} };
  const source = cachePublishedSource(o.scalers);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.all(closers.map((c) => c()));
  };
  try {
    let keda: BoundAddress | undefined;
    if (kedaOn) {
      const scaler = await startKedaScaler({
        address: o.keda.address,
        source,
        logger: o.logger.child({ component: 'external-scaler' }),
        ...(o.keda.certDir !== undefined ? { certDir: o.keda.certDir } : {}),
        onRequest: (method, code) => o.metrics.publishedRequests.inc({ api: 'keda', method, code }),
      });
      if (scaler) {
        closers.push(() => scaler.close());
        keda = toBound(scaler.address);
      }
    }
    let external: ExternalMetricsServer | undefined;
    if (externalOn) {
      const cert = await loadServingCertificate(o.externalMetrics.certDir, o.now);
      external = await startExternalMetricsServer({
        address: o.externalMetrics.address,
        source,
        loadAuth: kubeFrontProxyAuth(o.kubeConfig),
        reviews: kubeResourceReview(o.kubeConfig),
        cert: cert.cert,
        key: cert.key,
        logger: o.logger.child({ component: 'external-metrics' }),
        now: o.now,
        onRequest: (status) => o.metrics.publishedRequests.inc({ api: 'external-metrics', method: 'GET', code: String(status) }),
      });
      if (external) closers.push(() => external!.close());
    }
    return { ...(keda ? { keda } : {}), ...(external ? { externalMetrics: external.address } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}

function toBound(address: string): BoundAddress {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}
