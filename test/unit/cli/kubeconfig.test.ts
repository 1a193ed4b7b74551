// Which cluster `prescale run` uses, and the one line it says when there is none.
import { describe, expect, it } from 'vitest';
import { loadKubeConfig, type KubeConfigSources } from '../../../src/cli/kubeconfig.js';

const KUBECONFIG = `
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

function sources(env: NodeJS.ProcessEnv, files: Record<string, string>): KubeConfigSources {
  return {
    env,
    exists: (path) => path in files,
    read: (path) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return files[path]!;
    },
  };
}

describe('loadKubeConfig', () => {
  it('reads --kubeconfig, else $KUBECONFIG, else ~/.kube/config', () => {
    const files = { '/a': KUBECONFIG, '/home/u/.kube/config': KUBECONFIG.replace('6443', '7443') };
    expect(loadKubeConfig('/a', sources({}, files)).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(loadKubeConfig(undefined, sources({ KUBECONFIG: '/a', HOME: '/home/u' }, files)).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(loadKubeConfig(undefined, sources({ HOME: '/home/u' }, files)).getCurrentCluster()?.server).toBe('https://127.0.0.1:7443');
  });

  it('refuses to fall back to http://localhost:8080 when nothing is configured', () => {
    expect(() => loadKubeConfig(undefined, sources({ HOME: '/home/u' }, {}))).toThrow(/^no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG or create ~\/.kube\/config$/);
  });

  it.each([
    ['an empty file', { '/k': '  \n' }, /^no Kubernetes cluster configured: .*\(\/k is empty\)$/],
    ['a missing file', {}, /^cannot read kubeconfig \/k: ENOENT$/],
    ['no current-context', { '/k': KUBECONFIG.replace('current-context: x', '') }, /^no Kubernetes cluster configured: .*\(\/k sets no current-context\)$/],
    ['a context naming no cluster', { '/k': KUBECONFIG.replace('cluster: c,', 'cluster: gone,') }, /\(\/k has no cluster for context "x"\)$/],
    ['YAML that does not parse', { '/k': 'clusters: [' }, /^kubeconfig \/k is not valid: /],
  ])('%s: one line saying what to fix', (_what, files, expected) => {
    let message = '';
    try {
      loadKubeConfig('/k', sources({}, files));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });
});
