// Reads and sets replicas through the scale subresource of any kind that has one (Deployment,
// StatefulSet, ReplicaSet, or a custom resource declaring `subresources.scale`).
import {
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1APIResource,
} from '@kubernetes/client-node';
import type { ScaleTargetRef } from '../api/types.js';
import { apiErrorMessage, isForbidden, isNotFound, TargetError } from './errors.js';

export interface TargetScale {
  /** spec.replicas: what the target is asked to run. */
  replicas: number;
  /** status.replicas: what it runs now. */
  statusReplicas: number;
  /** status.selector: label selector of the target's pods, when the kind reports one. */
  selector?: string;
}

export interface ScaleClient {
  getScale(namespace: string, ref: ScaleTargetRef): Promise<TargetScale>;
  setReplicas(namespace: string, ref: ScaleTargetRef, replicas: number): Promise<void>;
}

interface ResolvedResource {
  group: string;
  version: string;
  plural: string;
}

/** Discovery through KubernetesObjectApi's cached per-group-version resource lists. */
class Discovery extends KubernetesObjectApi {
  async resolveScalable(apiVersion: string, kind: string): Promise<ResolvedResource> {
    let resource: V1APIResource | undefined;
    try {
      resource = await this.resource(apiVersion, kind);
    } catch (err) {
      if (isNotFound(err) || /404/.test(String((err as Error).message))) {
        throw new TargetError('UnknownKind', `the API server does not serve ${apiVersion}; check spec.scaleTargetRef.apiVersion`);
      }
      throw err;
    }
    if (!resource) {
      throw new TargetError('UnknownKind', `${apiVersion} has no kind ${kind}; check spec.scaleTargetRef.kind`);
    }
    const list = this.apiVersionResourceCache[apiVersion];
    const hasScale = list?.resources.some((r) => r.name === `${resource!.name}/scale`);
    if (!hasScale) {
      throw new TargetError(
        'NoScaleSubresource',
        `${kind}.${apiVersion} has no scale subresource, so its replicas cannot be set; point spec.scaleTargetRef at a Deployment, StatefulSet or a resource that declares one`,
      );
    }
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    if (!group) {
      throw new TargetError('UnknownKind', `core-group kinds (${kind}) are not supported as scale targets; use a Deployment or StatefulSet`);
    }
    return { group: group!, version: version!, plural: resource.name };
  }

  forget(apiVersion: string): void {
    delete this.apiVersionResourceCache[apiVersion];
  }
}

interface ScaleObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export class KubeScaleClient implements ScaleClient {
  private readonly discovery: Discovery;
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig, private readonly fieldManager = 'prescale') {
    this.discovery = kc.makeApiClient(Discovery);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async getScale(namespace: string, ref: ScaleTargetRef): Promise<TargetScale> {
    const r = await this.discovery.resolveScalable(ref.apiVersion, ref.kind);
    try {
      const scale = (await this.custom.getNamespacedCustomObjectScale({ ...r, namespace, name: ref.name })) as ScaleObject;
      return {
        replicas: scale.spec?.replicas ?? 0,
        statusReplicas: scale.status?.replicas ?? 0,
        selector: scale.status?.selector || undefined,
      };
    } catch (err) {
      throw this.classify(err, namespace, ref, 'read');
    }
  }

  async setReplicas(namespace: string, ref: ScaleTargetRef, replicas: number): Promise<void> {
    const r = await this.discovery.resolveScalable(ref.apiVersion, ref.kind);
    try {
      await this.custom.patchNamespacedCustomObjectScale(
        { ...r, namespace, name: ref.name, body: { spec: { replicas } }, fieldManager: this.fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      throw this.classify(err, namespace, ref, 'patch');
    }
  }

  private classify(err: unknown, namespace: string, ref: ScaleTargetRef, verb: string): unknown {
    if (isNotFound(err)) {
      this.discovery.forget(ref.apiVersion);
      return new TargetError('TargetNotFound', `${ref.kind} ${namespace}/${ref.name} does not exist; check spec.scaleTargetRef.name`);
    }
    if (isForbidden(err)) {
      return new TargetError(
        'Forbidden',
        `the operator may not ${verb} the scale of ${ref.kind} ${namespace}/${ref.name}: ${apiErrorMessage(err)}; grant its ClusterRole access to this kind's scale subresource`,
      );
    }
    return err;
  }
}
