import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PredictiveScaler } from '../../../src/api/types.js';
import { KubeEventRecorder, REPORTING_CONTROLLER, eventName, type ScalerEvent } from '../../../src/kube/events.js';

const T = Date.parse('2026-03-02T14:00:00.123Z');

describe('eventName', () => {
  it('fits a 253-character object name into a valid Event name', () => {
    const long = `${'a'.repeat(200)}.${'b'.repeat(40)}-${'c'.repeat(11)}`;
    expect(long).toHaveLength(253);
    const name = eventName(long, T);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(name.startsWith('a'.repeat(200))).toBe(true);
  });

  it('is the object name, a dot, and hex starting with the time in nanoseconds', () => {
    const name = eventName('web', T);
    expect(name).toMatch(/^web\.[0-9a-f]+$/);
    expect(name.startsWith(`web.${(BigInt(T) * 1_000_000n).toString(16)}`)).toBe(true);
  });

  it('is a valid object name for a dotted scaler name', () => {
    expect(eventName('api.v2', T)).toMatch(/^api\.v2\.[0-9a-f]+$/);
  });

  it('differs between events in the same millisecond', () => {
    // 16 random bits per name: among 200 names a handful may collide by chance, never most of them.
    const names = new Set(Array.from({ length: 200 }, () => eventName('web', T)));
    expect(names.size).toBeGreaterThan(190);
  });

  it('differs between milliseconds', () => {
    const prefix = (n: string) => n.slice(0, -4);
    expect(prefix(eventName('web', T))).not.toBe(prefix(eventName('web', T + 1)));
  });
});

interface Received {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** An API server stand-in that records POSTed events; answers `status` (201 unless set). */
class FakeApiServer {
  readonly received: Received[] = [];
  status = 201;
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      this.received.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(this.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          this.status < 300 ? body : { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd is sad', code: this.status },
        ),
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'fake-user', token: 'not-a-secret' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user' }],
    currentContext: 'fake',
  });
  return kc;
}

const SCALER: PredictiveScaler = {
  apiVersion: 'autoscaling.prescale.dev/v1alpha1',
  kind: 'PredictiveScaler',
  metadata: { name: 'web', namespace: 'shop', uid: '1234-abcd' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10, metrics: [] },
};

const SCALED: ScalerEvent = { type: 'Normal', reason: 'ScaledUp', action: 'Scale', note: 'scaled from 3 to 5' };

describe('KubeEventRecorder', () => {
  const api = new FakeApiServer();
  let kc: KubeConfig;
  const clock = { now: T };
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        warnings.push(line);
      },
    },
  );
  const DEDUPE = 10 * 60_000;
  const recorder = () => new KubeEventRecorder(kc, 'prescale-0', logger, () => clock.now, DEDUPE);

  beforeAll(async () => {
    kc = kubeConfig(await api.start());
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.received.length = 0;
    api.status = 201;
    warnings.length = 0;
    clock.now = T;
  });

  it('POSTs an events.k8s.io/v1 Event about the scaler', async () => {
    await recorder().record(SCALER, SCALED);

    expect(api.received).toHaveLength(1);
    const { method, url, body } = api.received[0]!;
    expect(method).toBe('POST');
    expect(url).toBe('/apis/events.k8s.io/v1/namespaces/shop/events');
    expect(body).toMatchObject({
      metadata: { namespace: 'shop' },
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'prescale-0',
      action: 'Scale',
      reason: 'ScaledUp',
      note: 'scaled from 3 to 5',
      type: 'Normal',
      regarding: { apiVersion: 'autoscaling.prescale.dev/v1alpha1', kind: 'PredictiveScaler', name: 'web', namespace: 'shop', uid: '1234-abcd' },
    });
    expect((body.metadata as { name: string }).name).toMatch(/^web\.[0-9a-f]+$/);
  });

  it('sends eventTime as a MicroTime: RFC 3339 with six fractional digits', async () => {
    await recorder().record(SCALER, SCALED);

    expect(api.received[0]!.body.eventTime).toBe('2026-03-02T14:00:00.123000Z');
  });

  it('truncates a long note to 1024 characters', async () => {
    await recorder().record(SCALER, { ...SCALED, note: 'x'.repeat(3000) });

    expect((api.received[0]!.body.note as string).length).toBe(1024);
  });

  it('does not re-send an identical note within the dedupe window, but does after it', async () => {
    const r = recorder();
    await r.record(SCALER, SCALED);
    clock.now = T + DEDUPE - 1;
    await r.record(SCALER, SCALED);
    expect(api.received).toHaveLength(1);

    clock.now = T + DEDUPE;
    await r.record(SCALER, SCALED);
    expect(api.received).toHaveLength(2);
    expect(api.received[1]!.body.eventTime).toBe(new Date(T + DEDUPE).toISOString().replace('Z', '000Z'));
    expect((api.received[1]!.body.metadata as { name: string }).name).not.toBe((api.received[0]!.body.metadata as { name: string }).name);
  });

  it('sends different notes, reasons and scalers within the window', async () => {
    const r = recorder();
    await r.record(SCALER, SCALED);
    await r.record(SCALER, { ...SCALED, note: 'scaled from 5 to 7' });
    await r.record(SCALER, { ...SCALED, reason: 'ScaledDown' });
    await r.record({ ...SCALER, metadata: { ...SCALER.metadata, name: 'api' } }, SCALED);

    expect(api.received.map((x) => [x.body.reason, x.body.note, (x.body.regarding as { name: string }).name])).toEqual([
      ['ScaledUp', 'scaled from 3 to 5', 'web'],
      ['ScaledUp', 'scaled from 5 to 7', 'web'],
      ['ScaledDown', 'scaled from 3 to 5', 'web'],
      ['ScaledUp', 'scaled from 3 to 5', 'api'],
    ]);
  });

  it('logs a failed POST without throwing, and retries the same note next time', async () => {
    const r = recorder();
    api.status = 500;
    await expect(r.record(SCALER, SCALED)).resolves.toBeUndefined();
    expect(warnings.join('\n')).toContain('could not record event');
    expect(warnings.join('\n')).toContain('etcd is sad');

    api.status = 201;
    clock.now = T + 1000;
    await r.record(SCALER, SCALED);
    expect(api.received).toHaveLength(2);
  });
});
