// Waiting for every informer's first list at start-up, and saying which have not listed and why.
// Like controller-runtime's CacheSyncTimeout: a list that keeps failing (RBAC missing, CRD not
// installed) is retried until the deadline, then the process exits with the reason, so a missing
// right shows up as a failed rollout rather than as a pod that runs but never becomes ready.
import type { InformerFailure } from './informer.js';

export interface SyncingInformer {
  readonly what: string;
  hasSynced(): boolean;
  lastFailure(): InformerFailure | undefined;
  waitForSync(timeoutMs: number): Promise<boolean>;
}

/** /readyz's answer: names only (the causes are in the log; the probe port is open to any pod). */
export function informersReadiness(informers: readonly SyncingInformer[]): true | { reason: string } {
  const waiting = informers.filter((i) => !i.hasSynced()).map((i) => i.what);
  return waiting.length === 0 ? true : { reason: `informers have not listed yet: ${waiting.join(', ')}` };
}

/** Why one informer has not listed, with what to do about it. Pure. */
export function explainUnsynced(what: string, failure: InformerFailure | undefined): string {
  if (!failure) return `${what} (no answer to the list yet)`;
  const hint =
    failure.status === 403
      ? '; grant the ServiceAccount list and watch on it: deploy/base/clusterrole.yaml'
      : failure.status === 404 && what === 'predictivescalers'
        ? '; is the CRD installed? kubectl apply -f crds/'
        : '';
  const code = failure.status === undefined ? '' : `HTTP ${failure.status}: `;
  return `${what} (${code}${failure.message}${hint})`;
}

export class InformersNotSyncedError extends Error {
  constructor(server: string, timeoutMs: number, unsynced: ReadonlyArray<{ what: string; failure: InformerFailure | undefined }>) {
    super(
      `the Kubernetes API server at ${server} answers, but within ${Math.round(timeoutMs / 1000)}s these could not be listed: ` +
        unsynced.map((u) => explainUnsynced(u.what, u.failure)).join(', '),
    );
    this.name = 'InformersNotSyncedError';
  }
}

/** Resolves once every informer has listed; throws InformersNotSyncedError at the deadline. */
export async function waitForInformers(informers: readonly SyncingInformer[], server: string, timeoutMs: number, startupTimeoutMs: number): Promise<void> {
  const listed = await Promise.all(informers.map((i) => i.waitForSync(timeoutMs)));
  if (listed.every(Boolean)) return;
  const unsynced = informers.filter((i) => !i.hasSynced()).map((i) => ({ what: i.what, failure: i.lastFailure() }));
  throw new InformersNotSyncedError(server, startupTimeoutMs, unsynced);
}
