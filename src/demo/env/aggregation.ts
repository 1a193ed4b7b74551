// Exposing a local process to the test cluster, and registering it as an extension API server.
//
// Processes under test (an operator, KEDA's metrics adapter) run on this machine, not in pods. For
// the API server to reach one, it gets a selector-less Service with a hand-written EndpointSlice
// pointing at this machine's address; an APIService naming that Service then has the aggregator
// (kube-apiserver started with `aggregation: true`, which routes to endpoints) proxy the API group
// to the process. The address is the first non-internal IPv4 address: Endpoint validation rejects
// loopback addresses, so the process must listen on 0.0.0.0 (or that address).
import { networkInterfaces } from 'node:os';
import {
  ApiregistrationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1APIService,
  type V1APIServiceCondition,
} from '@kubernetes/client-node';

const FIELD_MANAGER = 'prescale-test-env';
/** Marks the EndpointSlices written here, so no controller of kube-controller-manager adopts them. */
export const ENDPOINT_SLICE_MANAGER = 'prescale-test-env';
const PORT_NAME = 'https';
/** The Service's port; the EndpointSlice maps it to the process's own port. */
export const SERVICE_PORT = 443;

/** This machine's first non-internal IPv4 address; throws when there is none. */
export function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  throw new Error('no non-loopback IPv4 address on this machine: the cluster cannot reach a local process (Endpoint validation rejects loopback)');
}

export interface ExposeLocalPortOptions {
  namespace: string;
  /** Name of the Service and of its EndpointSlice. */
  name: string;
  /** The local process's port, listening on 0.0.0.0 or on `address`. */
  port: number;
  /** Default hostAddress(). */
  address?: string;
}

export interface ExposedPort {
  namespace: string;
  name: string;
  /** The Service's port (443), what an APIService names. */
  servicePort: number;
  /** Where the cluster sends the traffic: address:targetPort. */
  address: string;
  targetPort: number;
}

/**
 * Creates (or updates) a selector-less Service `namespace/name` and an EndpointSlice (label
 * kubernetes.io/service-name) whose one Ready endpoint is `address:port`. The namespace must exist.
 */
export async function exposeLocalPort(kc: KubeConfig, options: ExposeLocalPortOptions): Promise<ExposedPort> {
  const address = options.address ?? hostAddress();
  const { namespace, name, port } = options;
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await apply(objects, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    // No selector: the endpoint controller leaves its endpoints alone.
    spec: { type: 'ClusterIP', ports: [{ name: PORT_NAME, port: SERVICE_PORT, targetPort: port, protocol: 'TCP' }] },
  });
  await apply(objects, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': ENDPOINT_SLICE_MANAGER },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    // The name must match the Service port's: the aggregator picks the slice port by name.
    ports: [{ name: PORT_NAME, port, protocol: 'TCP' }],
  });
  return { namespace, name, servicePort: SERVICE_PORT, address, targetPort: port };
}

export interface RegisterApiServiceOptions {
  /** e.g. external.metrics.k8s.io */
  group: string;
  /** e.g. v1beta1 */
  version: string;
  /** The Service: an ExposedPort from exposeLocalPort() will do. */
  service: { namespace: string; name: string; servicePort?: number };
  /** Default true: the local process's serving certificate is not checked. */
  insecureSkipTLSVerify?: boolean;
  /** PEM CA bundle for the process's serving certificate (sets insecureSkipTLSVerify false). */
  caBundle?: string;
  groupPriorityMinimum?: number;
  versionPriority?: number;
  /** How long to wait for the Available condition. Default 60 s; 0: do not wait. */
  timeoutMs?: number;
}

/** Registers (or updates) the APIService `<version>.<group>` and waits until it is Available. */
export async function registerApiService(kc: KubeConfig, options: RegisterApiServiceOptions): Promise<V1APIService> {
  const name = `${options.version}.${options.group}`;
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const apiService: V1APIService & KubernetesObject = {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name },
    spec: {
      group: options.group,
      version: options.version,
      service: { namespace: options.service.namespace, name: options.service.name, port: options.service.servicePort ?? SERVICE_PORT },
      groupPriorityMinimum: options.groupPriorityMinimum ?? 100,
      versionPriority: options.versionPriority ?? 100,
      ...(options.caBundle
        ? { caBundle: Buffer.from(options.caBundle).toString('base64'), insecureSkipTLSVerify: false }
        : { insecureSkipTLSVerify: options.insecureSkipTLSVerify ?? true }),
    },
  };
  await apply(objects, apiService);
  if (options.timeoutMs === 0) return apiService;
  return waitForApiServiceAvailable(kc, name, options.timeoutMs ?? 60_000);
}

/**
 * Polls the APIService until its Available condition is True. On timeout, throws with the
 * condition's reason and message (e.g. FailedDiscoveryCheck: "failing or missing response from ...").
 */
export async function waitForApiServiceAvailable(kc: KubeConfig, name: string, timeoutMs = 60_000): Promise<V1APIService> {
  const api = kc.makeApiClient(ApiregistrationV1Api);
  const deadline = Date.now() + timeoutMs;
  let last: V1APIServiceCondition | undefined;
  let lastError = '';
  for (;;) {
    try {
      const service = await api.readAPIService({ name });
      last = service.status?.conditions?.find((c) => c.type === 'Available');
      if (last?.status === 'True') return service;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const why = last ? `${last.reason ?? ''}: ${last.message ?? ''}` : `no Available condition${lastError ? ` (${lastError})` : ''}`;
  throw new Error(`APIService ${name} not Available after ${timeoutMs} ms: ${why}`);
}

/** Deletes the APIService, Service and EndpointSlice (missing ones are fine). */
export async function unregister(kc: KubeConfig, apiServiceName: string | undefined, exposed: { namespace: string; name: string } | undefined): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const remove = (spec: KubernetesObject) => objects.delete(spec).catch((err: { code?: number }) => {
    if (err.code !== 404) throw err;
  });
  if (apiServiceName) await remove({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: apiServiceName } });
  if (exposed) {
    const metadata = { name: exposed.name, namespace: exposed.namespace };
    await remove({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata });
    await remove({ apiVersion: 'v1', kind: 'Service', metadata });
  }
}

function apply<T extends KubernetesObject>(objects: KubernetesObjectApi, object: T): Promise<T> {
  return objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}
