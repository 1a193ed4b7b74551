// The wire contract with KEDA: field numbers and wire types of proto/externalscaler.proto, checked
// against bytes written by hand from KEDA's contract, so a renamed type, a renumbered field or a
// changed type fails here (the client tests load the same .proto and would not notice).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS, KEDA_SERVICE, startKedaScaler, type KedaScaler } from '../../../src/publish/keda-scaler.js';
import type { PublishedLookup, PublishedSource } from '../../../src/publish/source.js';

let root: protobuf.Root;
beforeAll(() => {
  root = protobuf.loadSync(KEDA_PROTO_FILE);
});

const type = (name: string) => root.lookupType(`externalscaler.${name}`);
const encode = (name: string, value: object) => Buffer.from(type(name).encode(type(name).fromObject(value)).finish());

// Hand-written protobuf: a tag is (field number << 3) | wire type.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const tag = (field: number, wireType: number) => Buffer.from([(field << 3) | wireType]);
const str = (field: number, s: string) => Buffer.concat([tag(field, LEN), Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const varint = (field: number, n: number) => Buffer.concat([tag(field, VARINT), Buffer.from([n])]);
const double = (field: number, x: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return Buffer.concat([tag(field, FIXED64), b]);
};
const message = (field: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([tag(field, LEN), Buffer.from([body.length]), body]);
};

describe('KEDA wire contract', () => {
  it('IsActiveResponse: result is field 1, a varint bool', () => {
    expect(encode('IsActiveResponse', { result: true })).toEqual(varint(1, 1));
  });

  it('ScaledObjectRef: name 1, namespace 2, scalerMetadata 3 as map<string,string> entries', () => {
    const bytes = Buffer.concat([str(1, 'so'), str(2, 'ns'), message(3, str(1, 'scaler'), str(2, 'web'))]);
    expect(encode('ScaledObjectRef', { name: 'so', namespace: 'ns', scalerMetadata: { scaler: 'web' } })).toEqual(bytes);
    expect(type('ScaledObjectRef').toObject(type('ScaledObjectRef').decode(bytes))).toEqual({ name: 'so', namespace: 'ns', scalerMetadata: { scaler: 'web' } });
  });

  it('GetMetricsRequest: scaledObjectRef 1 (a message), metricName 2', () => {
    const bytes = Buffer.concat([message(1, str(1, 'so'), str(2, 'ns')), str(2, 'm')]);
    expect(encode('GetMetricsRequest', { scaledObjectRef: { name: 'so', namespace: 'ns' }, metricName: 'm' })).toEqual(bytes);
  });

  it('GetMetricSpecResponse: metricSpecs 1 of MetricSpec { metricName 1, targetSize 2 int64, targetSizeFloat 3 double }', () => {
    const bytes = message(1, str(1, 'm'), varint(2, 1), double(3, 1));
    expect(encode('GetMetricSpecResponse', { metricSpecs: [{ metricName: 'm', targetSize: 1, targetSizeFloat: 1 }] })).toEqual(bytes);
  });

  it('GetMetricsResponse: metricValues 1 of MetricValue { metricName 1, metricValue 2 int64, metricValueFloat 3 double }', () => {
    const bytes = message(1, str(1, 'm'), varint(2, 7), double(3, 7));
    expect(encode('GetMetricsResponse', { metricValues: [{ metricName: 'm', metricValue: 7, metricValueFloat: 7 }] })).toEqual(bytes);
    // The integer fields are int64 (KEDA decodes them as such), the float ones double.
    const field = type('MetricValue').fields.metricValue!;
    expect([field.id, field.type]).toEqual([2, 'int64']);
    expect([type('MetricSpec').fields.targetSize!.type, type('MetricSpec').fields.targetSizeFloat!.type]).toEqual(['int64', 'double']);
  });

  it('the service: its full name, its methods, their types and which stream', async () => {
    const definition = await protoLoader.load(KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS);
    const service = definition[KEDA_SERVICE] as grpc.ServiceDefinition;
    const shape = Object.fromEntries(
      Object.entries(service).map(([name, m]) => [
        name,
        {
          path: m.path,
          requestStream: m.requestStream,
          responseStream: m.responseStream,
          request: (m as unknown as { requestType: { type: { name: string } } }).requestType.type.name,
          response: (m as unknown as { responseType: { type: { name: string } } }).responseType.type.name,
        },
      ]),
    );
    const p = '/externalscaler.ExternalScaler/';
    expect(shape).toEqual({
      IsActive: { path: `${p}IsActive`, requestStream: false, responseStream: false, request: 'ScaledObjectRef', response: 'IsActiveResponse' },
      StreamIsActive: { path: `${p}StreamIsActive`, requestStream: false, responseStream: true, request: 'ScaledObjectRef', response: 'IsActiveResponse' },
      GetMetricSpec: { path: `${p}GetMetricSpec`, requestStream: false, responseStream: false, request: 'ScaledObjectRef', response: 'GetMetricSpecResponse' },
      GetMetrics: { path: `${p}GetMetrics`, requestStream: false, responseStream: false, request: 'GetMetricsRequest', response: 'GetMetricsResponse' },
      StreamMetricSpec: { path: `${p}StreamMetricSpec`, requestStream: false, responseStream: true, request: 'ScaledObjectRef', response: 'GetMetricSpecResponse' },
    });
  });
});

describe('KEDA wire contract: the server, byte for byte', () => {
  let server: KedaScaler;
  let client: grpc.Client;
  beforeAll(async () => {
    const source: PublishedSource = {
      lookup: (namespace, name): PublishedLookup =>
        namespace === 'ns' && name === 'web'
          ? { ok: true, value: { namespace, name, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, desiredReplicas: 7 } }
          : { ok: false, code: 'NotFound', message: 'no' },
      onChange: () => () => undefined,
    };
    server = (await startKedaScaler({ address: '127.0.0.1:0', source, logger: createLogger({ level: 'silent' }) }))!;
    client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  const call = (method: string, request: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const identity = (b: Buffer) => b;
      client.makeUnaryRequest(`/externalscaler.ExternalScaler/${method}`, identity, identity, request, { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });
  // A ScaledObjectRef as KEDA's Go client would send it, written by hand.
  const ref = Buffer.concat([str(1, 'so'), str(2, 'ns'), message(3, str(1, 'scaler'), str(2, 'web'))]);

  it('answers GetMetrics with metricValueFloat as field 3 double inside field 1', async () => {
    const request = Buffer.concat([message(1, ref), str(2, 'prescale-web')]);
    expect(await call('GetMetrics', request)).toEqual(message(1, str(1, 'prescale-web'), varint(2, 7), double(3, 7)));
  });

  it('answers GetMetricSpec with targetSize 1 (field 2) and targetSizeFloat 1 (field 3)', async () => {
    expect(await call('GetMetricSpec', ref)).toEqual(message(1, str(1, 'prescale-web'), varint(2, 1), double(3, 1)));
  });

  it('answers IsActive with result true as field 1', async () => {
    expect(await call('IsActive', ref)).toEqual(varint(1, 1));
  });
});
