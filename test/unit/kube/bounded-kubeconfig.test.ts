// An API server that accepts connections and never answers must not hold a caller past the deadline.
import { createServer, type Server, type Socket } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedKubeConfig } from '../../../src/kube/bounded-kubeconfig.js';

let server: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function silentServer(): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    // Reads everything, answers nothing: a hung API server or a black-holing proxy.
    socket.on('data', () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as { port: number }).port;
}

function configFor(port: number, timeoutMs: number): BoundedKubeConfig {
  const kc = new BoundedKubeConfig(timeoutMs);
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('BoundedKubeConfig', () => {
  it('aborts an API request the server never answers at the deadline', async () => {
    const port = await silentServer();
    const started = Date.now();
    const error = await configFor(port, 300)
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeDefined();
    expect(String(error?.message ?? error)).toMatch(/abort/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gives every request its own deadline, not one shared from construction', async () => {
    const port = await silentServer();
    const kc = configFor(port, 300);
    const api = kc.makeApiClient(CoreV1Api);
    await api.listNamespace().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // A deadline shared across requests would already have fired; this one must wait its own 300 ms.
    const started = Date.now();
    await api.listNamespace().catch(() => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
