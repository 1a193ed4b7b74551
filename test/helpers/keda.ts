// KEDA in the end-to-end cluster, as local processes: the operator (ScaledObjects -> HPAs, the
// scalers, and a gRPC metrics service) and the metrics adapter (an extension API server serving
// external.metrics.k8s.io from that gRPC service), registered with the cluster's aggregation layer
// so that the real HPA controller in kube-controller-manager reads KEDA's metrics.
//
// What a Helm install gives KEDA in a pod is supplied here instead:
// - The namespace (env POD_NAMESPACE, KEDA_CLUSTER_OBJECT_NAMESPACE; in a pod, the service account's
//   namespace file) and WATCH_NAMESPACE="" (all namespaces; it must be set).
// - The API server, as the admin (system:masters: no RBAC needed): KUBECONFIG and --kubeconfig
//   (controller-runtime's client, in both), and for the adapter also --lister-kubeconfig (the
//   custom-metrics-apiserver library's client: discovery, and without it in-cluster config).
// - Certificates: KEDA's operator would generate them into a Secret and patch the APIService
//   (--enable-cert-rotation, left off). Instead a test CA issues one certificate for the operator's
//   gRPC server and one for the adapter (its HTTPS serving and its gRPC client certificate), each
//   in a --cert-dir as ca.crt, tls.crt and tls.key (both ends require mTLS against ca.crt); the
//   APIService gets the CA as caBundle.
// - Ports: every listener on a random port (metrics, health probes, gRPC, the adapter's HTTPS and
//   its /metrics --port); the operator's gRPC service on 127.0.0.1, the adapter's HTTPS on 0.0.0.0
//   because the aggregator reaches it at this machine's address (aggregation.ts).
// - Delegated authentication and authorization for the adapter: --authentication-kubeconfig and
//   --authorization-kubeconfig; the front proxy's CA comes from the configmap
//   kube-system/extension-apiserver-authentication.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exposeLocalPort, hostAddress, registerApiService, unregister, type ExposedPort } from '../../src/demo/env/aggregation.js';
import type { Cluster } from '../../src/demo/env/cluster.js';
import { findOnPath, startProcess, waitUntilReady, type ManagedProcess } from '../../src/demo/env/processes.js';
import { freePort } from '../../src/demo/env/prometheus.js';
import { certificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/observability/self-signed-cert.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_SCRIPT = join(REPO_ROOT, 'hack', 'build-keda.sh');
export const EXTERNAL_METRICS_API_SERVICE = 'v1beta1.external.metrics.k8s.io';
const ADAPTER_SERVICE = 'keda-metrics-apiserver';

export interface KedaOptions {
  /** KEDA's namespace (created). Default keda. */
  namespace?: string;
  /** How long to wait for each process, and for the APIService to become Available. Default 90 s. */
  readyTimeoutMs?: number;
  /** --zap-log-level of both processes. Default info. */
  logLevel?: string;
}

export interface Keda {
  /** Directory of the keda and keda-adapter binaries (and crds/). */
  binDir: string;
  namespace: string;
  /** Logs, in the cluster's work dir. */
  operatorLog: string;
  adapterLog: string;
  /** 127.0.0.1:<port> of the operator's gRPC metrics service. */
  grpcAddress: string;
  /** The adapter's HTTPS port (on 0.0.0.0). */
  adapterPort: number;
  /** The Service and EndpointSlice the APIService points at. */
  exposed: ExposedPort;
  /** The CA of the operator's and the adapter's certificates (PEM). */
  caCert: string;
  /** Kills both processes and removes the APIService. Idempotent. */
  stop(): Promise<void>;
}

/** Runs hack/build-keda.sh (instant when cached) and returns its directory. */
export async function findKedaBinaries(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [BUILD_SCRIPT], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 60 * 60_000 });
  const dir = stdout.trim().split('\n').pop()?.trim() ?? '';
  const missing = ['keda', 'keda-adapter', 'crds/keda.sh_scaledobjects.yaml'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`hack/build-keda.sh did not yield ${missing.join(', ')} (last line: "${dir}")`);
  return dir;
}

export async function startKeda(cluster: Cluster, options: KedaOptions = {}): Promise<Keda> {
  const namespace = options.namespace ?? 'keda';
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const logLevel = options.logLevel ?? 'info';
  const kc = cluster.controlPlane.kubeConfig;
  if (!cluster.controlPlane.frontProxy) throw new Error('startKeda: the cluster runs without the aggregation layer (controlPlane.aggregation)');
  const binDir = await findKedaBinaries();

  // CRDs (server-side: the ScaledJob CRD is too big for kubectl's last-applied annotation), then the namespace.
  await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(binDir, 'crds')]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(binDir, 'crds')]);
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }) });

  const dir = join(cluster.workDir, 'keda');
  const ca = certificateAuthority({ commonName: 'keda-test-ca', organizations: ['prescale-tests'] });
  const operatorCertDir = join(dir, 'operator-certs');
  const adapterCertDir = join(dir, 'adapter-certs');
  const customCaDir = join(dir, 'custom-ca'); // --ca-dir: extra CAs for scalers' TLS; none
  await mkdir(customCaDir, { recursive: true });
  await writeCertDir(operatorCertDir, ca, issueCertificate({
    issuer: ca,
    commonName: 'keda-operator',
    hosts: ['localhost', '127.0.0.1', `keda-operator.${namespace}.svc`, `keda-operator.${namespace}.svc.cluster.local`],
    usages: ['serverAuth', 'clientAuth'],
  }));
  await writeCertDir(adapterCertDir, ca, issueCertificate({
    issuer: ca,
    commonName: ADAPTER_SERVICE,
    hosts: ['localhost', '127.0.0.1', hostAddress(), `${ADAPTER_SERVICE}.${namespace}.svc`, `${ADAPTER_SERVICE}.${namespace}.svc.cluster.local`],
    // Serves the aggregator and is the adapter's client certificate towards the operator's gRPC service.
    usages: ['serverAuth', 'clientAuth'],
  }));

  const [metricsPort, probePort, grpcPort, adapterPort, adapterMetricsPort] = await distinctFreePorts(5);
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const kubeconfig = cluster.kubeconfigPath;
  const env = [
    `KUBECONFIG=${kubeconfig}`,
    'WATCH_NAMESPACE=',
    `POD_NAMESPACE=${namespace}`,
    `KEDA_CLUSTER_OBJECT_NAMESPACE=${namespace}`,
  ];
  const processes: ManagedProcess[] = [];
  const operatorLog = join(cluster.workDir, 'keda-operator.log');
  const adapterLog = join(cluster.workDir, 'keda-adapter.log');
  let exposed: ExposedPort | undefined;
  let registered = false;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await unregister(kc, registered ? EXTERNAL_METRICS_API_SERVICE : undefined, exposed).catch(() => undefined);
    await Promise.all(processes.map((p) => p.kill()));
  };
  try {
    const operator = startWithEnv(join(binDir, 'keda'), operatorLog, env, [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
      `--metrics-service-bind-address=${grpcAddress}`,
      // Certificates come from the test CA, not from KEDA's rotator (which writes a Secret and
      // patches webhooks and the APIService).
      '--enable-cert-rotation=false',
      `--cert-dir=${operatorCertDir}`,
      `--ca-dir=${customCaDir}`,
      `--zap-log-level=${logLevel}`,
      '--zap-encoder=console',
      '--zap-time-encoding=rfc3339',
    ]);
    processes.push(operator);
    await waitUntilReady(operator, readyTimeoutMs, () => httpOk(`http://127.0.0.1:${probePort}/readyz`), { pollMs: 250, killOnTimeout: false });

    const adapter = startWithEnv(join(binDir, 'keda-adapter'), adapterLog, env, [
      `--kubeconfig=${kubeconfig}`,
      `--lister-kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--secure-port=${adapterPort}`,
      '--bind-address=0.0.0.0',
      `--tls-cert-file=${join(adapterCertDir, 'tls.crt')}`,
      `--tls-private-key-file=${join(adapterCertDir, 'tls.key')}`,
      // ca.crt, tls.crt and tls.key here are the gRPC client's mTLS material.
      `--cert-dir=${adapterCertDir}`,
      `--metrics-service-address=${grpcAddress}`,
      `--port=${adapterMetricsPort}`,
      `--zap-log-level=${logLevel}`,
      '--zap-encoder=console',
      '--zap-time-encoding=rfc3339',
    ]);
    processes.push(adapter);
    await waitUntilReady(adapter, readyTimeoutMs, () => httpOk(`https://127.0.0.1:${adapterPort}/readyz`, ca.cert), { pollMs: 250, killOnTimeout: false });

    exposed = await exposeLocalPort(kc, { namespace, name: ADAPTER_SERVICE, port: adapterPort });
    registered = true;
    await registerApiService(kc, {
      group: 'external.metrics.k8s.io',
      version: 'v1beta1',
      service: exposed,
      caBundle: ca.cert,
      groupPriorityMinimum: 100,
      versionPriority: 100,
      timeoutMs: readyTimeoutMs,
    });
    return { binDir, namespace, operatorLog, adapterLog, grpcAddress, adapterPort, exposed, caCert: ca.cert, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function writeCertDir(dir: string, ca: CertificateAndKey, leaf: CertificateAndKey): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca.crt'), ca.cert);
  await writeFile(join(dir, 'tls.crt'), leaf.cert);
  await writeFile(join(dir, 'tls.key'), leaf.key, { mode: 0o600 });
}

/** startProcess() with extra environment variables, through env(1). */
function startWithEnv(binary: string, logPath: string, env: string[], args: string[]): ManagedProcess {
  const envBinary = findOnPath('env') ?? '/usr/bin/env';
  const started = startProcess(envBinary, logPath, [...env, binary, ...args], { dieWithParent: true });
  const name = binary.split('/').pop() ?? binary;
  return Object.create(started, { name: { value: name } }) as ManagedProcess;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** True on HTTP 200 (verifying an HTTPS server against `ca`). */
function httpOk(url: string, ca?: string): Promise<boolean> {
  const secure = url.startsWith('https:');
  return new Promise((resolveProbe, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method: 'GET', timeout: 2000, ...(secure ? { ca } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolveProbe(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
