// `prescale run` as a process with the deploy/ ServiceAccount's rights: the CRD and deploy/ applied
// to a test control plane, a token minted for prescale-system/prescale, a kubeconfig with only that
// token, and the ports the operator bound read from its start-up log.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from './envtest.js';
import { mintServiceAccountToken } from './envtest.js';
import { applyKustomization, applyManifests } from './manifests.js';
import { spawnOperator, type LogLine, type OperatorProcess } from './operator-process.js';

export interface DeployedOperator {
  process: OperatorProcess;
  metricsPort: number;
  probesPort: number;
  /** SIGTERM, wait for the exit, remove the kubeconfig. */
  stop(): Promise<void>;
}

/** Applies crds/ and deploy/ (idempotent) to the control plane. */
export async function installOperatorManifests(plane: ControlPlane): Promise<void> {
  await applyManifests(plane.kubeConfig, 'crds');
  await applyKustomization(plane.kubeConfig, 'deploy');
}

export async function startDeployedOperator(plane: ControlPlane, extraArgs: string[] = []): Promise<DeployedOperator> {
  const token = await mintServiceAccountToken(plane.kubeConfig, 'prescale-system', 'prescale');
  const dir = await mkdtemp(join(tmpdir(), 'prescale-operator-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, plane.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
  const child = spawnOperator([
    '--kubeconfig',
    kubeconfig,
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--no-persist-models',
    ...extraArgs,
  ]);
  const portOf = (line: LogLine) => (line.address as { port: number }).port;
  try {
    const [metrics, probes] = await Promise.all([
      child.waitForLog((l) => l.msg === 'serving metrics', 60_000),
      child.waitForLog((l) => l.msg === 'serving health probes', 60_000),
    ]);
    await child.waitForLog((l) => l.msg === 'informer caches synced', 60_000);
    return {
      process: child,
      metricsPort: portOf(metrics),
      probesPort: portOf(probes),
      async stop() {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await child.exited;
        clearTimeout(killer);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
