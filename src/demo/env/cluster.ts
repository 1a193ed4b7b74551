// A throwaway Kubernetes cluster for end-to-end tests: the control plane of envtest.ts (etcd and
// kube-apiserver) plus kube-controller-manager (Deployments -> ReplicaSets -> Pods, garbage
// collection, node lifecycle), kube-scheduler, and KWOK standing in for kubelets on fake nodes.
//
// Pods run nowhere: KWOK writes their status. With the Stages in demo/kwok-stages.yaml a
// scheduled pod is Pending at once and turns Ready after the delay in its annotation
// `pod-ready.stage.kwok.x-k8s.io/delay` (a Go duration, e.g. "75s"; default 1s), optionally at a
// random time up to `pod-ready.stage.kwok.x-k8s.io/jitter-delay`. So a Deployment whose pod template
// carries that annotation has its status.readyReplicas follow spec.replicas that much later, as
// with a real application's start-up. The fake nodes are not tainted: every pod may land on them.
//
// The API server runs the aggregation layer (see control-plane.ts), so an extension API server run
// as a local process, such as KEDA's metrics adapter, can serve e.g. external.metrics.k8s.io to the
// HPA controller (aggregation.ts registers one). The HPA controller resyncs every 5 s (15 s in a
// real cluster), so that tests of autoscaling do not wait long.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.js';
import { freePort } from './prometheus.js';

// The kernel kills these daemons if the test worker dies, even by SIGKILL.
const DIE_WITH_PARENT = { dieWithParent: true };
// startCluster() stops every process itself when start-up fails.
const CLUSTER_WAIT = { pollMs: 200, killOnTimeout: false };

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BUILD_SCRIPT = join(REPO_ROOT, 'hack', 'build-k8s-bins.sh');
export const CLUSTER_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];

/** The pod annotation the KWOK Stages read the start-up-to-Ready delay from. */
export const POD_READY_DELAY_ANNOTATION = 'pod-ready.stage.kwok.x-k8s.io/delay';
/** Optional upper bound: Ready at a uniformly random time between the delay and this. */
export const POD_READY_JITTER_ANNOTATION = 'pod-ready.stage.kwok.x-k8s.io/jitter-delay';
/** Nodes with this annotation (value `fake`) are the ones KWOK manages. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const DEFAULT_KWOK_STAGES = join(REPO_ROOT, 'demo', 'kwok-stages.yaml');

export interface ClusterOptions {
  /** Fake nodes to create. Default 3. */
  nodes?: number;
  /** KWOK Stage documents. Default demo/kwok-stages.yaml. */
  kwokStages?: string;
  /** Passed to startControlPlane(); `aggregation` defaults to true here. */
  controlPlane?: ControlPlaneOptions;
  /** kube-controller-manager's --horizontal-pod-autoscaler-sync-period. Default 5s. */
  hpaSyncPeriod?: string;
  /** How long to wait for each component (and the nodes) to become ready. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface Cluster {
  controlPlane: ControlPlane;
  /** Admin kubeconfig (system:masters), also what controller-manager, scheduler and KWOK use. */
  kubeconfigPath: string;
  /** Directory of the six binaries (kubectl among them). */
  binDir: string;
  kubectlPath: string;
  nodeNames: string[];
  /** Holds every component's log: etcd.log, kube-apiserver.log, kube-controller-manager.log, kube-scheduler.log, kwok.log. */
  workDir: string;
  /** Runs the cluster's kubectl with the admin kubeconfig from the repository root; resolves with stdout, rejects with stderr. */
  kubectl(args: string[], options?: { input?: string }): Promise<string>;
  /** Kills every process; keeps the work dir (logs). Idempotent. */
  stop(): Promise<void>;
  /** stop() and remove the work dir. Idempotent. */
  close(): Promise<void>;
}

/** Runs hack/build-k8s-bins.sh for all six binaries (instant when cached) and returns their directory. */
export async function findClusterBinaries(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [BUILD_SCRIPT, ...CLUSTER_BINARIES], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60 * 60_000,
  });
  const dir = stdout.trim().split('\n').pop()?.trim() ?? '';
  const missing = CLUSTER_BINARIES.filter((b) => !existsSync(join(dir, b)));
  if (missing.length > 0) throw new Error(`hack/build-k8s-bins.sh did not yield ${missing.join(', ')} (last line: "${dir}")`);
  return dir;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const nodeCount = options.nodes ?? 3;
  const binDir = await findClusterBinaries();
  const cp = await startControlPlane({ readyTimeoutMs, aggregation: true, ...options.controlPlane });
  const processes: ManagedProcess[] = [];
  const { workDir, kubeconfigPath } = cp;
  const stopProcesses = () => Promise.all(processes.map((p) => p.kill()));
  try {
    const [managerPort, schedulerPort] = await Promise.all([freePort(), freePort()]);
    const delegatedAuth = [`--authentication-kubeconfig=${kubeconfigPath}`, `--authorization-kubeconfig=${kubeconfigPath}`];
    const manager = startProcess(join(binDir, 'kube-controller-manager'), join(workDir, 'kube-controller-manager.log'), [
      `--kubeconfig=${kubeconfigPath}`,
      ...delegatedAuth,
      `--service-account-private-key-file=${cp.serviceAccountKeyPath}`,
      `--root-ca-file=${join(workDir, 'certs', 'apiserver.crt')}`,
      '--leader-elect=false',
      '--controllers=*',
      // The HPA controller runs as the admin (system:masters, no per-controller service-account
      // credentials), so it may read custom and external metrics through the aggregation layer.
      `--horizontal-pod-autoscaler-sync-period=${options.hpaSyncPeriod ?? '5s'}`,
      `--secure-port=${managerPort}`,
      '--bind-address=127.0.0.1',
    ], DIE_WITH_PARENT);
    processes.push(manager);
    const scheduler = startProcess(join(binDir, 'kube-scheduler'), join(workDir, 'kube-scheduler.log'), [
      `--kubeconfig=${kubeconfigPath}`,
      ...delegatedAuth,
      '--leader-elect=false',
      `--secure-port=${schedulerPort}`,
      '--bind-address=127.0.0.1',
    ], DIE_WITH_PARENT);
    processes.push(scheduler);
    const kwok = startProcess(join(binDir, 'kwok'), join(workDir, 'kwok.log'), [
      `--kubeconfig=${kubeconfigPath}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      // Liveness through node Leases, as a kubelet does, so the node lifecycle controller keeps the
      // nodes Ready and never evicts their pods.
      '--node-lease-duration-seconds=40',
      '--cidr=10.64.0.1/16',
      `--config=${options.kwokStages ?? DEFAULT_KWOK_STAGES}`,
    ], DIE_WITH_PARENT);
    processes.push(kwok);
    await Promise.all([
      waitUntilReady(manager, readyTimeoutMs, () => healthy(`https://127.0.0.1:${managerPort}/healthz`), CLUSTER_WAIT),
      waitUntilReady(scheduler, readyTimeoutMs, () => healthy(`https://127.0.0.1:${schedulerPort}/healthz`), CLUSTER_WAIT),
    ]);

    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const nodeNames = Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`);
    for (const name of nodeNames) await core.createNode({ body: fakeNode(name) });
    await waitUntilReady(kwok, readyTimeoutMs, async () => {
      const nodes = await core.listNode();
      return nodeNames.every((n) => isReady(nodes.items.find((x) => x.metadata?.name === n)));
    }, CLUSTER_WAIT);

    const kubectlPath = join(binDir, 'kubectl');
    const kubectl = async (args: string[], opts: { input?: string } = {}): Promise<string> =>
      runKubectl(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args], opts.input);

    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await stopProcesses();
      await cp.stop();
    };
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await stop();
      await cp.close();
    };
    return { controlPlane: cp, kubeconfigPath, binDir, kubectlPath, nodeNames, workDir, kubectl, stop, close };
  } catch (err) {
    await stopProcesses();
    await cp.close();
    throw err;
  }
}

function fakeNode(name: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
  };
}

function isReady(node: V1Node | undefined): boolean {
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function runKubectl(kubectlPath: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(kubectlPath, args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.slice(2).join(' ')}: ${stderr.trim() || err.message}`));
      else resolveRun(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}


/** True when an HTTPS health endpoint answers 200 "ok" (self-signed serving certificates: not verified). */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolveProbe, reject) => {
    const req = httpsRequest(url, { method: 'GET', timeout: 2000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolveProbe(res.statusCode === 200 && body.trim() === 'ok'));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

