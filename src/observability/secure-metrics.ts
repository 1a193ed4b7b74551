// --metrics-secure: the serving certificate and the TokenReview/SubjectAccessReview gate, together.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from './logger.js';
import { MetricsAuthorizer, kubeAccessReviews } from './metrics-auth.js';
import type { SecureMetrics } from './server.js';
import { loadServingCertificate } from './serving-cert.js';

export async function secureMetrics(kubeConfig: KubeConfig, certDir: string | undefined, logger: Logger, now: () => number): Promise<SecureMetrics> {
  const { cert, key, source } = await loadServingCertificate(certDir, now);
  logger.info({ certificate: source }, 'metrics: HTTPS, each request authenticated (TokenReview) and authorized (SubjectAccessReview)');
  const authorizer = new MetricsAuthorizer({ reviews: kubeAccessReviews(kubeConfig), logger, now });
  return { cert, key, authorize: (authorization) => authorizer.check(authorization) };
}
