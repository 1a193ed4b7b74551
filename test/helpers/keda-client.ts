// A gRPC client of prescale's KEDA external scaler, loaded from the project's .proto, as KEDA's
// operator and metrics server call it (they use the same wire contract).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS } from '../../src/publish/keda-scaler.js';

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface ExternalScalerClient {
  isActive(ref: ScaledObjectRef): Promise<boolean>;
  getMetricSpec(ref: ScaledObjectRef): Promise<Array<{ metricName: string; targetSizeFloat: number }>>;
  getMetrics(ref: ScaledObjectRef, metricName: string): Promise<Array<{ metricName: string; metricValueFloat: number }>>;
  close(): void;
}

type Callback = (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void;
type Raw = grpc.Client & Record<'IsActive' | 'GetMetricSpec' | 'GetMetrics', (req: unknown, options: grpc.CallOptions, cb: Callback) => void>;

export async function externalScalerClient(address: string, credentials = grpc.credentials.createInsecure()): Promise<ExternalScalerClient> {
  const definition = await protoLoader.load(KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } };
  const client = new pkg.externalscaler.ExternalScaler(address, credentials) as unknown as Raw;
  const call = <T>(method: 'IsActive' | 'GetMetricSpec' | 'GetMetrics', req: unknown, pick: (res: Record<string, unknown>) => T) =>
    new Promise<T>((resolve, reject) => {
      client[method](req, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(pick(res ?? {}))));
    });
  return {
    isActive: (ref) => call('IsActive', ref, (r) => r.result === true),
    getMetricSpec: (ref) => call('GetMetricSpec', ref, (r) => r.metricSpecs as Array<{ metricName: string; targetSizeFloat: number }>),
    getMetrics: (ref, metricName) => call('GetMetrics', { scaledObjectRef: ref, metricName }, (r) => r.metricValues as Array<{ metricName: string; metricValueFloat: number }>),
    close: () => client.close(),
  };
}
