// The two things the external metrics API asks of the Kubernetes API server: its front-proxy
// settings (the ConfigMap kube-system/extension-apiserver-authentication, readable with the Role
// extension-apiserver-authentication-reader) and SubjectAccessReviews (ClusterRole system:auth-delegator).
import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { frontProxyAuthFrom, type FrontProxyAuth, type ResourceReview } from './external-metrics.js';

export function kubeFrontProxyAuth(kc: KubeConfig): () => Promise<FrontProxyAuth> {
  const core = kc.makeApiClient(CoreV1Api);
  return async () => {
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' });
    return frontProxyAuthFrom(cm.data);
  };
}

export function kubeResourceReview(kc: KubeConfig): ResourceReview {
  const authorization = kc.makeApiClient(AuthorizationV1Api);
  return {
    async allowed(user, attributes) {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: attributes,
          },
        },
      });
      return review.status?.allowed === true;
    },
  };
}
