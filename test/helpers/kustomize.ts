// Renders a kustomization the way `kubectl apply -k` does, with the kubectl the tests build, for
// installs that use what the plain reader in manifests.ts refuses: kustomize Components
// (deploy/components/*), patches, overlays.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

let kubectlPath: Promise<string> | undefined;
/** hack/build-k8s-bins.sh builds kubectl from the same release as kube-apiserver (cached). */
export function kubectl(): Promise<string> {
  kubectlPath ??= run('bash', [join(REPO_ROOT, 'hack', 'build-k8s-bins.sh'), 'kubectl'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }).then(({ stdout }) =>
    join(stdout.trim().split('\n').pop()!.trim(), 'kubectl'),
  );
  return kubectlPath;
}

/**
 * The objects `kubectl kustomize <dir>` renders, with `components` (directories holding a kustomize
 * Component) applied on top. Paths are relative to the repository root or absolute. Objects come
 * from client-node's loader, so applyManifests() can send them as they are.
 */
export async function renderKustomization(dir: string, components: string[] = []): Promise<KubernetesObject[]> {
  const target = resolve(REPO_ROOT, dir);
  const bin = await kubectl();
  if (components.length === 0) return parse((await run(bin, ['kustomize', target], { maxBuffer: 64 * 1024 * 1024 })).stdout);
  // kustomize takes components only from a kustomization, by relative path: a throwaway one.
  const wrapper = await mkdtemp(join(tmpdir(), 'prescale-kustomize-'));
  try {
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(wrapper, target)],
      components: components.map((c) => relative(wrapper, resolve(REPO_ROOT, c))),
    };
    await writeFile(join(wrapper, 'kustomization.yaml'), stringify(kustomization));
    return parse((await run(bin, ['kustomize', wrapper], { maxBuffer: 64 * 1024 * 1024 })).stdout);
  } finally {
    await rm(wrapper, { recursive: true, force: true });
  }
}

function parse(text: string): KubernetesObject[] {
  return (loadAllYaml(text) as unknown[]).filter((o): o is KubernetesObject => o !== null && typeof o === 'object' && 'kind' in o);
}
