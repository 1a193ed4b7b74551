// The one-line reasons `prescale run` gives when it cannot start, and /readyz's answer while informers list.
import { describe, expect, it } from 'vitest';
import { displayServer, explainApiServerFailure } from '../../../src/kube/api-server-check.js';
import { explainUnsynced, informersReadiness, InformersNotSyncedError, type SyncingInformer } from '../../../src/kube/informer-sync.js';

describe('explainApiServerFailure', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, /^connection refused/],
    [{ code: 'ENOTFOUND' }, /^DNS: the host name does not resolve \(ENOTFOUND\)$/],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, /^TLS: self-signed certificate \(check certificate-authority-data/],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, /^TLS: Hostname/],
    [{ status: 401 }, /^401 Unauthorized: .*ServiceAccount token/],
    [{ status: 403 }, /^403 Forbidden: .*RBAC/],
    [{ status: 503, message: 'x\ny' }, /^HTTP 503 from GET \/version: x y$/],
    [{ timedOut: true }, /^no answer within 30s/],
    [{ badConfig: true, message: 'exec: kubelogin not found' }, /^the kubeconfig cannot be used: exec: kubelogin not found$/],
    [{}, /^unknown error$/],
  ])('%j', (failure, expected) => {
    const text = explainApiServerFailure(failure, 30_000);
    expect(text).toMatch(expected);
    expect(text).not.toContain('\n');
  });

  it('caps what a server or a library wrote', () => {
    expect(explainApiServerFailure({ code: 'EPROTO', message: 'z'.repeat(10_000) }, 30_000).length).toBeLessThan(300);
  });
});

describe('displayServer', () => {
  it('drops userinfo and keeps the rest', () => {
    expect(displayServer('https://admin:secret@10.0.0.1:6443/')).toBe('https://10.0.0.1:6443');
    expect(displayServer('https://k8s.example/clusters/c-1')).toBe('https://k8s.example/clusters/c-1');
    expect(displayServer('not a url\nat all')).toBe('not a url at all');
  });
});

const informer = (what: string, synced: boolean, failure?: { message: string; status?: number }): SyncingInformer => ({
  what,
  hasSynced: () => synced,
  lastFailure: () => failure,
  waitForSync: async () => synced,
});

describe('informer sync reasons', () => {
  it('/readyz names the informers that have not listed, and only their names', () => {
    const informers = [informer('predictivescalers', false, { status: 403, message: 'User "system:serviceaccount:a:b" cannot list' }), informer('pods', true), informer('horizontalpodautoscalers', false)];
    expect(informersReadiness(informers)).toEqual({ reason: 'informers have not listed yet: predictivescalers, horizontalpodautoscalers' });
    expect(informersReadiness([informer('pods', true)])).toBe(true);
  });

  it('says what to do: RBAC for 403, the CRD for a 404 on predictivescalers', () => {
    expect(explainUnsynced('pods', { status: 403, message: 'forbidden' })).toBe('pods (HTTP 403: forbidden; grant the ServiceAccount list and watch on it: deploy/base/clusterrole.yaml)');
    expect(explainUnsynced('predictivescalers', { status: 404, message: 'the server could not find the requested resource' })).toMatch(/is the CRD installed\? kubectl apply -f crds\/\)$/);
    expect(explainUnsynced('pods', { status: 404, message: 'not found' })).toBe('pods (HTTP 404: not found)');
    expect(explainUnsynced('pods', { message: 'connect ECONNREFUSED 127.0.0.1:1' })).toBe('pods (connect ECONNREFUSED 127.0.0.1:1)');
    expect(explainUnsynced('pods', undefined)).toBe('pods (no answer to the list yet)');
  });

  it('the start-up error is one line naming the server and every informer that did not list', () => {
    const err = new InformersNotSyncedError('https://127.0.0.1:6443', 30_000, [
      { what: 'predictivescalers', failure: { status: 403, message: 'forbidden' } },
      { what: 'pods', failure: undefined },
    ]);
    expect(err.message).toBe(
      'the Kubernetes API server at https://127.0.0.1:6443 answers, but within 30s these could not be listed: predictivescalers (HTTP 403: forbidden; grant the ServiceAccount list and watch on it: deploy/base/clusterrole.yaml), pods (no answer to the list yet)',
    );
  });
});
