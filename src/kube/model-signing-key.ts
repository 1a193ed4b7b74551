// The HMAC key that authenticates saved models (see model-envelope.ts). It lives in a Secret in the
// operator's own namespace, where tenants have no rights; the operator creates it on first use with
// 32 random bytes. Two replicas starting at once both try to create it: the loser's create gets a
// 409 and it reads the winner's key, so every replica signs with the same one.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { apiErrorMessage, isConflict, isForbidden, isNotFound } from './errors.js';
import { MIN_SIGNING_KEY_BYTES } from './model-envelope.js';

export const DEFAULT_SIGNING_SECRET_NAME = 'prescale-model-signing-key';
/** The Secret's data key holding the raw key bytes. */
export const SIGNING_KEY_DATA_KEY = 'hmac-sha256-key';
const GENERATED_KEY_BYTES = 32;
const RBAC_HINT =
  "the operator's ServiceAccount needs get on this Secret (by name) and create on secrets in its own namespace (see deploy/base/role.yaml); a different --model-signing-secret needs that name in the Role's resourceNames";

export interface SigningKeyOptions {
  /** The operator's own namespace. */
  namespace: string;
  /** Default prescale-model-signing-key. */
  name?: string;
  /** Key bytes for a new Secret; 32 random bytes by default. */
  generate?: () => Buffer;
}

/** Where the model store gets its signing key; fetched once, fetched again after a failure. */
export interface SigningKeySource {
  key(): Promise<Buffer>;
}

export class SecretSigningKey implements SigningKeySource {
  private readonly core: CoreV1Api;
  private readonly name: string;
  private readonly generate: () => Buffer;
  private pending: Promise<Buffer> | undefined;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: SigningKeyOptions,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.name = options.name ?? DEFAULT_SIGNING_SECRET_NAME;
    this.generate = options.generate ?? (() => randomBytes(GENERATED_KEY_BYTES));
  }

  key(): Promise<Buffer> {
    if (!this.pending) {
      const fetching = this.readOrCreate();
      this.pending = fetching;
      // Forget a failure, so the next caller tries again (the API server may be back).
      fetching.catch(() => {
        if (this.pending === fetching) this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async readOrCreate(): Promise<Buffer> {
    const existing = await this.read();
    if (existing) return this.keyOf(existing);
    try {
      return this.keyOf(await this.core.createNamespacedSecret({ namespace: this.options.namespace, body: this.newSecret(), fieldManager: 'prescale' }));
    } catch (err) {
      if (!isConflict(err)) throw this.explain(err, 'create');
    }
    // Another replica created it between our read and our create.
    const created = await this.read();
    if (!created) throw new Error(`${this.ref()} was created by someone else and is gone again; will retry`);
    return this.keyOf(created);
  }

  private async read(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name: this.name, namespace: this.options.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.explain(err, 'get');
    }
  }

  private newSecret(): V1Secret {
    const key = this.generate();
    if (key.length < MIN_SIGNING_KEY_BYTES) throw new RangeError(`a generated signing key must have at least ${MIN_SIGNING_KEY_BYTES} bytes, has ${key.length}`);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.name,
        namespace: this.options.namespace,
        labels: { 'app.kubernetes.io/name': 'prescale', 'app.kubernetes.io/managed-by': 'prescale' },
        annotations: { 'autoscaling.prescale.dev/purpose': 'HMAC key of the trained models prescale saves; to rotate, delete it and restart the operator (saved models are then retrained)' },
      },
      type: 'Opaque',
      immutable: true,
      data: { [SIGNING_KEY_DATA_KEY]: key.toString('base64') },
    };
  }

  private keyOf(secret: V1Secret): Buffer {
    const encoded = secret.data?.[SIGNING_KEY_DATA_KEY];
    const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
    if (!key || key.length < MIN_SIGNING_KEY_BYTES) {
      throw new Error(
        `${this.ref()} has no data key ${SIGNING_KEY_DATA_KEY} of at least ${MIN_SIGNING_KEY_BYTES} bytes (${key ? `it has ${key.length}` : 'it is missing'}); delete the Secret and the operator creates a new key`,
      );
    }
    return key;
  }

  private explain(err: unknown, verb: string): Error {
    const message = `could not ${verb} ${this.ref()}: ${apiErrorMessage(err)}`;
    return new Error(isForbidden(err) ? `${message}; ${RBAC_HINT}` : message, { cause: err });
  }

  private ref(): string {
    return `the model signing Secret ${this.options.namespace}/${this.name}`;
  }
}
