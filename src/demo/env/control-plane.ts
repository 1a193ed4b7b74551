// A throwaway Kubernetes control plane for tests: a real etcd and a real kube-apiserver on random
// loopback ports, with RBAC on, a static admin token and service-account tokens. No nodes, no
// controller-manager, no scheduler: objects are stored and validated, nothing runs them.
//
// With `aggregation: true` the API server also runs the aggregation layer as a cluster does: a
// front-proxy CA and client certificate (the requestheader flags, published in the configmap
// kube-system/extension-apiserver-authentication for extension API servers' delegated
// authentication), and routing to an APIService's endpoints rather than its ClusterIP (there is no
// kube-proxy). See aggregation.ts for registering an extension API server that runs as a local process.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { certificateAuthority, issueCertificate } from '../../observability/self-signed-cert.js';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BUILD_SCRIPT = join(REPO_ROOT, 'hack', 'build-k8s-bins.sh');

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Base64 PEM of the API server's self-signed serving chain, for clients to verify it. */
  caData?: string;
  /** An admin kubeconfig (token user in system:masters) written to the temp dir. */
  kubeconfigPath: string;
  /** The same admin credentials as a loaded KubeConfig. */
  kubeConfig: KubeConfig;
  adminToken: string;
  /** PEM RSA private key that signs service-account tokens (a controller-manager would need it). */
  serviceAccountKeyPath: string;
  /** Directory holding the etcd and kube-apiserver binaries. */
  binDir: string;
  /** Temp dir holding data, certificates and the process logs (etcd.log, kube-apiserver.log). */
  workDir: string;
  /** The aggregation layer's front-proxy credentials; only with `aggregation: true`. */
  frontProxy?: FrontProxy;
  /** A KubeConfig for the same server authenticating with another bearer token. */
  tokenKubeConfig(token: string): KubeConfig;
  /** Stops kube-apiserver only (etcd keeps the data), to simulate an API server outage. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same certificates. */
  startApiServer(): Promise<void>;
  /** stopApiServer() then startApiServer(). */
  restartApiServer(): Promise<void>;
  /** Kills every process; keeps the temp dir (logs) for inspection. Idempotent. */
  stop(): Promise<void>;
  /** stop() and remove the temp dir. Idempotent. */
  close(): Promise<void>;
}

/**
 * The front proxy's PKI, as files in the work dir. The API server (the aggregator) authenticates to
 * extension API servers with the client certificate and passes the caller's identity in the
 * X-Remote-User, X-Remote-Group and X-Remote-Extra-* headers; those servers trust such requests
 * when the client certificate verifies against the CA and its CN is `front-proxy-client`.
 */
export interface FrontProxy {
  /** PEM CA certificate: --requestheader-client-ca-file. */
  caPath: string;
  /** The CA certificate itself (PEM). */
  caCert: string;
  /** PEM private key of the CA, to issue more front-proxy client certificates. */
  caKeyPath: string;
  /** PEM client certificate (CN front-proxy-client, EKU clientAuth): --proxy-client-cert-file. */
  clientCertPath: string;
  /** --proxy-client-key-file. */
  clientKeyPath: string;
  /** The common name extension API servers allow: --requestheader-allowed-names. */
  allowedName: string;
}

export const FRONT_PROXY_CLIENT_NAME = 'front-proxy-client';

export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, e.g. ['--feature-gates=...']. */
  apiServerArgs?: string[];
  /** Run the aggregation layer (front-proxy certificates, requestheader flags, endpoint routing). Default false. */
  aggregation?: boolean;
  /** How long to wait for each process to become ready. Default 60s. */
  readyTimeoutMs?: number;
}

/** Runs hack/build-k8s-bins.sh (instant when cached or when KUBEBUILDER_ASSETS is set) and returns its directory. */
export async function findKubernetesBinaries(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [BUILD_SCRIPT], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 40 * 60_000,
  });
  const dir = stdout.trim().split('\n').pop()?.trim();
  if (!dir || !existsSync(join(dir, 'etcd')) || !existsSync(join(dir, 'kube-apiserver'))) {
    throw new Error(`hack/build-k8s-bins.sh did not yield etcd and kube-apiserver (last line: "${dir}")`);
  }
  return dir;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const binDir = await findKubernetesBinaries();
  const workDir = await mkdtemp(join(tmpdir(), 'prescale-envtest-'));
  const processes: ManagedProcess[] = [];
  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess(join(binDir, 'etcd'), join(workDir, 'etcd.log'), [
      '--name=default',
      `--data-dir=${join(workDir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], { dieWithParent: true });
    processes.push(etcd);
    await waitUntilReady(etcd, readyTimeoutMs, async () => {
      const body = await httpGet(`${etcdUrl}/health`);
      return body.includes('"health":"true"');
    });

    const adminToken = randomBytes(24).toString('hex');
    const tokenFile = join(workDir, 'tokens.csv');
    await writeFile(tokenFile, `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    const serviceAccountKeyPath = join(workDir, 'sa.key');
    const serviceAccountPubPath = join(workDir, 'sa.pub');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(serviceAccountKeyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    await writeFile(serviceAccountPubPath, publicKey.export({ type: 'spki', format: 'pem' }));

    const certDir = join(workDir, 'certs');
    const server = `https://127.0.0.1:${apiPort}`;
    const frontProxy = options.aggregation ? await writeFrontProxyPki(join(workDir, 'front-proxy')) : undefined;
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${apiPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${serviceAccountPubPath}`,
      `--service-account-signing-key-file=${serviceAccountKeyPath}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokenFile}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      ...(frontProxy ? aggregationArgs(frontProxy) : []),
      ...(options.apiServerArgs ?? []),
    ];
    const apiLog = join(workDir, 'kube-apiserver.log');
    let apiServer: ManagedProcess | undefined;
    const startApiServer = async (): Promise<void> => {
      if (apiServer && !apiServer.exited) return;
      const started = startProcess(join(binDir, 'kube-apiserver'), apiLog, apiServerArgs, { dieWithParent: true });
      apiServer = started;
      processes.push(started);
      await waitUntilReady(started, readyTimeoutMs, async () => {
        const body = await httpGet(`${server}/readyz`, adminToken);
        return body.trim() === 'ok';
      });
    };
    const stopApiServer = async (): Promise<void> => {
      if (apiServer) await apiServer.kill();
    };
    await startApiServer();

    const certFile = join(certDir, 'apiserver.crt');
    const caData = existsSync(certFile) ? readFileSync(certFile).toString('base64') : undefined;
    const tokenKubeConfig = (token: string): KubeConfig => kubeConfigFor(server, caData, token);
    const kubeConfig = tokenKubeConfig(adminToken);
    const kubeconfigPath = join(workDir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });

    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      // API server first, so it does not log a storm of etcd connection errors.
      await stopApiServer();
      await Promise.all(processes.map((p) => p.kill()));
    };
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await stop();
      await rm(workDir, { recursive: true, force: true });
    };
    return {
      server,
      caData,
      kubeconfigPath,
      kubeConfig,
      adminToken,
      serviceAccountKeyPath,
      binDir,
      workDir,
      ...(frontProxy ? { frontProxy } : {}),
      tokenKubeConfig,
      stopApiServer,
      startApiServer,
      restartApiServer: async () => {
        await stopApiServer();
        await startApiServer();
      },
      stop,
      close,
    };
  } catch (err) {
    await Promise.all(processes.map((p) => p.kill()));
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
}

async function writeFrontProxyPki(dir: string): Promise<FrontProxy> {
  await mkdir(dir, { recursive: true });
  const ca = certificateAuthority({ commonName: 'front-proxy-ca' });
  const client = issueCertificate({ issuer: ca, commonName: FRONT_PROXY_CLIENT_NAME, usages: ['clientAuth'] });
  const frontProxy: FrontProxy = {
    caPath: join(dir, 'front-proxy-ca.crt'),
    caCert: ca.cert,
    caKeyPath: join(dir, 'front-proxy-ca.key'),
    clientCertPath: join(dir, 'front-proxy-client.crt'),
    clientKeyPath: join(dir, 'front-proxy-client.key'),
    allowedName: FRONT_PROXY_CLIENT_NAME,
  };
  await writeFile(frontProxy.caPath, ca.cert);
  await writeFile(frontProxy.caKeyPath, ca.key, { mode: 0o600 });
  await writeFile(frontProxy.clientCertPath, client.cert);
  await writeFile(frontProxy.clientKeyPath, client.key, { mode: 0o600 });
  return frontProxy;
}

function aggregationArgs(frontProxy: FrontProxy): string[] {
  return [
    `--requestheader-client-ca-file=${frontProxy.caPath}`,
    `--requestheader-allowed-names=${frontProxy.allowedName}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${frontProxy.clientCertPath}`,
    `--proxy-client-key-file=${frontProxy.clientKeyPath}`,
    // Proxy to the APIService's endpoints (EndpointSlices), not its ClusterIP: nothing implements
    // ClusterIPs here (no kube-proxy), and extension servers run as local processes.
    '--enable-aggregator-routing=true',
  ];
}

/** Mints a bearer token for a ServiceAccount through the TokenRequest API. */
export async function mintServiceAccountToken(
  kc: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const response = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = response.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

function kubeConfigFor(server: string, caData: string | undefined, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'envtest', server, caData, skipTLSVerify: caData === undefined }],
    users: [{ name: 'envtest-user', token }],
    contexts: [{ name: 'envtest', cluster: 'envtest', user: 'envtest-user', namespace: 'default' }],
    currentContext: 'envtest',
  });
  return kc;
}

/** GET returning the body; rejects on connection errors or a non-2xx status. */
function httpGet(url: string, bearerToken?: string): Promise<string> {
  const secure = url.startsWith('https:');
  return new Promise((resolveBody, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        timeout: 2000,
        headers: bearerToken ? { Authorization: `Bearer ${bearerToken}` } : {},
        // Only the readiness probe skips verification: the serving certificate may not exist yet.
        ...(secure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolveBody(body);
          else reject(new Error(`GET ${url}: HTTP ${status} ${body.slice(0, 300)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Distinct free loopback ports (bound then released; a tiny race remains). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      return new Promise<import('node:net').Server>((resolveServer, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolveServer(srv));
      });
    }),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
