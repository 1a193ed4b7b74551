// A KubeConfig whose API requests each have a deadline. client-node sends requests without one, so a
// connection to an API server (or a proxy in front of it) that stops answering would hold a reconcile,
// and with it a worker, forever. Every generated API client authenticates through the KubeConfig it
// was made from, which is where the deadline is attached; watches (long-lived by design) do not go
// through this path and keep running.
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 60_000;

export class BoundedKubeConfig extends KubeConfig {
  constructor(private readonly requestTimeoutMs = DEFAULT_KUBE_REQUEST_TIMEOUT_MS) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const deadline = AbortSignal.timeout(this.requestTimeoutMs);
    const own = context.getSignal();
    context.setSignal(own ? AbortSignal.any([own, deadline]) : deadline);
  }
}
