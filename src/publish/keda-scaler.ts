// prescale as a KEDA external scaler: KEDA's gRPC contract (proto/externalscaler.proto) over the
// PublishedSource, so a ScaledObject with an `external` (or `external-push`) trigger
//
//   triggers:
//     - type: external
//       metadata:
//         scalerAddress: prescale.prescale-system.svc:9100
//         scaler: <PredictiveScaler name, in the ScaledObject's namespace, mode: Publish>
//
// scales its workload to the PredictiveScaler's desiredReplicas: the one metric has target 1 and
// value desiredReplicas, so with KEDA's default AverageValue metric type the HPA computes
// ceil(desiredReplicas / 1) replicas (within its tolerance), and IsActive is desiredReplicas > 0.
//
// Anything that reaches the port can call it, so every request is untrusted: sizes and counts are
// capped, every handler answers with a status rather than throwing, and a ScaledObjectRef reaches
// PredictiveScalers in its own namespace only.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from '../observability/logger.js';
import { parseBindAddress } from '../observability/server.js';
import {
  INTERNAL_DETAILS,
  kedaMetricName,
  lookupFailureStatus,
  resolveScaledObjectRef,
  statusName,
  type RequestError,
  type ScalerRef,
} from './keda-request.js';
import { loadKedaTls } from './keda-tls.js';
import type { PublishedSource } from './source.js';

export { kedaMetricName, SCALER_METADATA_KEY } from './keda-request.js';

/**
 * The contract's .proto: repo/proto/, reached from src/publish/ (tests, tsx) and from dist/publish/
 * (the build, the image) alike.
 */
export const KEDA_PROTO_FILE = fileURLToPath(new URL('../../proto/externalscaler.proto', import.meta.url));
/** The fully qualified service name, as in the .proto. */
export const KEDA_SERVICE = 'externalscaler.ExternalScaler';
/**
 * How the .proto is loaded, by the server and by test clients alike. Field names stay as written
 * (KEDA's camelCase); int64 values are JavaScript numbers (replica counts are far below 2^53).
 */
export const KEDA_PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export type KedaMethod = 'IsActive' | 'StreamIsActive' | 'GetMetricSpec' | 'GetMetrics' | 'StreamMetricSpec';

export interface KedaScalerLimits {
  /** The largest request accepted, bytes; a larger one is refused with RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** The most trigger metadata entries a request may carry (KEDA sends the whole map; a handful). */
  maxMetadataEntries: number;
  /** StreamIsActive streams open at once, over all connections; more get RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** How often an open StreamIsActive repeats the current answer even when it did not change, ms. */
  streamRepeatMs: number;
  /** How often the server pings a connection to find dead clients, ms. */
  keepaliveTimeMs: number;
  /** How long a ping may go unanswered before the connection is dropped, ms. */
  keepaliveTimeoutMs: number;
  /** A connection with no call for this long is closed (clients reconnect when they need to), ms. */
  maxConnectionIdleMs: number;
  /** How long close() lets connections finish before cutting them, ms. */
  shutdownGraceMs: number;
}

export const DEFAULT_KEDA_LIMITS: KedaScalerLimits = {
  maxReceiveMessageBytes: 64 * 1024,
  maxMetadataEntries: 128,
  maxStreams: 1000,
  streamRepeatMs: 30_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxConnectionIdleMs: 5 * 60_000,
  shutdownGraceMs: 5_000,
};

export interface KedaScalerOptions {
  /** host:port, :port (every interface), [ipv6]:port; "0" disables the scaler (start returns undefined). */
  address: string;
  source: PublishedSource;
  logger: Logger;
  /** A directory with tls.crt and tls.key (and optionally ca.crt, requiring client certificates); plain text without it. */
  certDir?: string;
  /**
   * Called once per finished call with the method and the name of its gRPC status ("OK",
   * "NOT_FOUND", ...; a StreamIsActive the client ended counts as "CANCELLED"). Must not throw
   * (what it throws is logged and dropped).
   */
  onRequest?: (method: KedaMethod, code: string) => void;
  limits?: Partial<KedaScalerLimits>;
}

export interface KedaScaler {
  /** Where it listens, host:port with the actual port ("[::]" or "0.0.0.0" for every interface). */
  address: string;
  /** Ends the open streams (cleanly: KEDA reconnects), stops listening; resolves when all is closed. */
  close(): Promise<void>;
}

interface IsActiveResponse {
  result: boolean;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: RequestError };

/** Starts serving; undefined when `address` is "0". Rejects when the port cannot be bound or the TLS files are unusable. */
export async function startKedaScaler(options: KedaScalerOptions): Promise<KedaScaler | undefined> {
  const listen = parseBindAddress(options.address);
  if (listen === undefined) return undefined;
  const { source, logger } = options;
  const limits: KedaScalerLimits = { ...DEFAULT_KEDA_LIMITS, ...options.limits };

  const tls = options.certDir === undefined ? undefined : await loadKedaTls(options.certDir);
  const definition = await protoLoader.load(KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS);
  const service = definition[KEDA_SERVICE] as grpc.ServiceDefinition;

  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': limits.maxConnectionIdleMs,
    // KEDA multiplexes every ScaledObject's calls over one connection per scalerAddress: the
    // per-connection HTTP/2 limit leaves room for all the streams plus the unary calls beside them.
    'grpc.max_concurrent_streams': limits.maxStreams + 100,
    'grpc.enable_channelz': 0,
  });

  const report = (method: KedaMethod, code: grpc.status) => {
    if (!options.onRequest) return;
    try {
      options.onRequest(method, statusName(code));
    } catch (err) {
      logger.error({ err, method }, 'KEDA scaler: the request counter failed');
    }
  };

  const internal = (method: KedaMethod, err: unknown, what: string): RequestError => {
    logger.error({ err, method }, `KEDA scaler: ${what}`);
    return { code: grpc.status.INTERNAL, details: INTERNAL_DETAILS };
  };

  const resolve = (ref: unknown): Outcome<ScalerRef> => {
    const resolved = resolveScaledObjectRef(ref, limits.maxMetadataEntries);
    return resolved.ok ? { ok: true, value: resolved.ref } : resolved;
  };

  const desiredReplicas = (method: KedaMethod, ref: ScalerRef): Outcome<number> => {
    let found;
    try {
      found = source.lookup(ref.namespace, ref.scaler);
    } catch (err) {
      return { ok: false, error: internal(method, err, 'looking up the recommendation failed') };
    }
    if (!found.ok) return { ok: false, error: lookupFailureStatus(found) };
    const desired = found.value.desiredReplicas;
    if (!Number.isSafeInteger(desired) || desired < 0) {
      return { ok: false, error: internal(method, new Error(`desiredReplicas ${String(desired)}`), 'the source served an impossible recommendation') };
    }
    return { ok: true, value: desired };
  };

  /** A unary handler: computes the answer (never throwing), then answers once and counts. */
  const unary =
    <Res>(method: KedaMethod, answer: (request: unknown) => Outcome<Res>): grpc.handleUnaryCall<unknown, Res> =>
    (call, callback) => {
      let outcome: Outcome<Res>;
      try {
        outcome = answer(call.request);
      } catch (err) {
        outcome = { ok: false, error: internal(method, err, 'request handling failed') };
      }
      if (outcome.ok) callback(null, outcome.value);
      else callback(outcome.error);
      report(method, outcome.ok ? grpc.status.OK : outcome.error.code);
    };

  const isActive = (method: KedaMethod, request: unknown): Outcome<IsActiveResponse> => {
    const ref = resolve(request);
    if (!ref.ok) return ref;
    const desired = desiredReplicas(method, ref.value);
    return desired.ok ? { ok: true, value: { result: desired.value > 0 } } : desired;
  };

  // One subscription to the source while any stream is open, fanned out by scaler.
  const watchers = new Map<string, Set<() => void>>();
  let unsubscribe: (() => void) | undefined;
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const onSourceChange = (namespace: string, name: string) => {
    const set = watchers.get(key(namespace, name));
    if (!set) return;
    for (const watcher of [...set]) watcher();
  };
  const watch = (ref: ScalerRef, watcher: () => void): (() => void) => {
    // Subscribed first: a source that throws here leaves nothing registered.
    unsubscribe ??= source.onChange(onSourceChange);
    const k = key(ref.namespace, ref.scaler);
    let set = watchers.get(k);
    if (!set) watchers.set(k, (set = new Set()));
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0) watchers.delete(k);
      if (watchers.size === 0 && unsubscribe) {
        const off = unsubscribe;
        unsubscribe = undefined;
        off();
      }
    };
  };

  /** The open streams, each with how to end it cleanly (for close()). */
  const streams = new Set<() => void>();
  let closing = false;

  const streamIsActive: grpc.handleServerStreamingCall<unknown, IsActiveResponse> = (call) => {
    const method: KedaMethod = 'StreamIsActive';
    let done = false;
    let finalCode: grpc.status = grpc.status.OK;
    const cleanups: (() => void)[] = [];
    const finish = () => {
      if (done) return;
      done = true;
      for (const cleanup of cleanups.splice(0)) {
        try {
          cleanup();
        } catch (err) {
          logger.error({ err }, 'KEDA scaler: stream cleanup failed');
        }
      }
      report(method, finalCode);
    };
    const fail = (error: RequestError) => {
      if (done || call.writableEnded) return;
      finalCode = error.code;
      // grpc-js's own 'error' listener on the call sends this status and ends the stream.
      call.emit('error', { code: error.code, details: error.details });
    };
    call.on('cancelled', () => {
      finalCode = grpc.status.CANCELLED;
      finish();
    });
    call.on('close', finish);
    call.on('finish', finish);

    try {
      if (closing) return fail({ code: grpc.status.UNAVAILABLE, details: 'the operator is shutting down; reconnect' });
      if (streams.size >= limits.maxStreams) {
        return fail({ code: grpc.status.RESOURCE_EXHAUSTED, details: `too many StreamIsActive streams open (at most ${limits.maxStreams})` });
      }
      const ref = resolve(call.request);
      if (!ref.ok) return fail(ref.error);

      let last: boolean | undefined;
      let blocked = false;
      let pending = false;
      const write = () => {
        if (done || call.writableEnded || call.destroyed) return;
        if (blocked) {
          // A client not reading gets the latest answer when it does, not a backlog.
          pending = true;
          return;
        }
        if (!call.write({ result: last === true })) blocked = true;
      };
      call.on('drain', () => {
        blocked = false;
        if (pending) {
          pending = false;
          write();
        }
      });
      const update = (always: boolean) => {
        if (done) return;
        try {
          const answer = desiredReplicas(method, ref.value);
          if (!answer.ok) return fail(answer.error);
          const active = answer.value > 0;
          if (!always && active === last) return;
          last = active;
          write();
        } catch (err) {
          fail(internal(method, err, 'stream update failed'));
        }
      };

      const endCleanly = () => {
        if (!done && !call.writableEnded) call.end();
      };
      streams.add(endCleanly);
      cleanups.push(() => streams.delete(endCleanly));
      cleanups.push(watch(ref.value, () => update(false)));
      const timer = setInterval(() => update(true), limits.streamRepeatMs);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
      update(true);
    } catch (err) {
      fail(internal(method, err, 'opening the stream failed'));
    }
  };

  const implementation: grpc.UntypedServiceImplementation = {
    IsActive: unary('IsActive', (request) => isActive('IsActive', request)),
    StreamIsActive: streamIsActive,
    GetMetricSpec: unary('GetMetricSpec', (request) => {
      // The spec depends on the metadata only, never on the scaler's state: KEDA builds the HPA
      // from it, and a transient failure here (a scaler the informer has not seen yet) would leave
      // that HPA without the metric. What is wrong with the scaler, GetMetrics and IsActive report.
      const ref = resolve(request);
      if (!ref.ok) return ref;
      const metricName = kedaMetricName(ref.value.scaler);
      return { ok: true, value: { metricSpecs: [{ metricName, targetSize: 1, targetSizeFloat: 1 }] } };
    }),
    GetMetrics: unary('GetMetrics', (request) => {
      const { scaledObjectRef, metricName } = (request ?? {}) as { scaledObjectRef?: unknown; metricName?: unknown };
      const ref = resolve(scaledObjectRef);
      if (!ref.ok) return ref;
      const desired = desiredReplicas('GetMetrics', ref.value);
      if (!desired.ok) return desired;
      const name = typeof metricName === 'string' && metricName !== '' ? metricName : kedaMetricName(ref.value.scaler);
      return { ok: true, value: { metricValues: [{ metricName: name, metricValue: desired.value, metricValueFloat: desired.value }] } };
    }),
    StreamMetricSpec: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      // KEDA stops asking on UNIMPLEMENTED and keeps using GetMetricSpec, which never changes here.
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'prescale\'s metric spec does not change; use GetMetricSpec' });
      report('StreamMetricSpec', grpc.status.UNIMPLEMENTED);
    },
  };
  server.addService(service, implementation);

  const credentials = tls?.credentials ?? grpc.ServerCredentials.createInsecure();
  const hosts = listen.host === undefined ? ['[::]', '0.0.0.0'] : [listen.host.includes(':') ? `[${listen.host}]` : listen.host];
  let bound: string | undefined;
  let firstError: unknown;
  for (const host of hosts) {
    try {
      const port = await bindAsync(server, `${host}:${listen.port}`, credentials);
      bound = `${host}:${port}`;
      break;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (bound === undefined) {
    server.forceShutdown();
    throw new Error(`KEDA scaler: cannot listen on ${options.address}: ${(firstError as Error).message}`);
  }

  if (tls) {
    logger.info({ address: bound, tls: true, clientCertificates: tls.clientAuth }, 'serving the KEDA external scaler');
  } else {
    logger.warn(
      { address: bound, tls: false },
      'serving the KEDA external scaler in plain text: anything that reaches the port can read the recommendations ' +
        '(the deploy NetworkPolicy admits the keda namespace only); give it a certificate directory for TLS',
    );
  }

  let closed: Promise<void> | undefined;
  return {
    address: bound,
    close: () =>
      (closed ??= new Promise<void>((resolveClose) => {
        closing = true;
        for (const end of [...streams]) end();
        const force = setTimeout(() => server.forceShutdown(), limits.shutdownGraceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          if (unsubscribe) {
            unsubscribe();
            unsubscribe = undefined;
          }
          watchers.clear();
          resolveClose();
        });
      })),
  };
}

function bindAsync(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
