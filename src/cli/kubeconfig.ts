// Which cluster the CLI talks to: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the
// pod's ServiceAccount. client-node's loadFromDefault() falls back to http://localhost:8080 when
// none exists; here that is "no cluster configured", said in one line.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { BoundedKubeConfig } from '../kube/bounded-kubeconfig.js';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const NO_CLUSTER = 'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config';

export interface KubeConfigSources {
  env: NodeJS.ProcessEnv;
  exists: (path: string) => boolean;
  read: (path: string) => string;
}

const systemSources: KubeConfigSources = { env: process.env, exists: existsSync, read: (path) => readFileSync(path, 'utf8') };

export function loadKubeConfig(path?: string, sources: KubeConfigSources = systemSources): KubeConfig {
  // Every API request the CLI and the operator make gets a deadline (watches excepted).
  const kc = new BoundedKubeConfig();
  const files = path ? [path] : (sources.env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const home = sources.env.HOME ? join(sources.env.HOME, '.kube', 'config') : undefined;
  if (files.length === 0 && home && sources.exists(home)) files.push(home);
  if (files.length > 0) {
    for (const [i, file] of files.entries()) {
      const one = i === 0 ? kc : new KubeConfig();
      readKubeConfigFile(one, file, sources);
      if (one !== kc) kc.mergeConfig(one);
    }
  } else if (sources.env.KUBERNETES_SERVICE_HOST && sources.exists(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
  } else {
    throw new Error(NO_CLUSTER);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`${NO_CLUSTER} (${files.join(delimiter)} ${kc.getCurrentContext() ? `has no cluster for context "${kc.getCurrentContext()}"` : 'sets no current-context'})`);
  }
  return kc;
}

function readKubeConfigFile(kc: KubeConfig, file: string, sources: KubeConfigSources): void {
  let text: string;
  try {
    text = sources.read(file);
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text.trim() === '') throw new Error(`${NO_CLUSTER} (${file} is empty)`);
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new Error(`kubeconfig ${file} is not valid: ${((err as Error).message ?? String(err)).replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  kc.makePathsAbsolute(dirname(file));
}
