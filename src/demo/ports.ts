// The web view's port: the one asked for when it is free on 127.0.0.1, any free one otherwise.
import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err)));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

export async function bindablePort(preferred: number): Promise<number> {
  const port = (preferred !== 0 ? await tryListen(preferred) : undefined) ?? (await tryListen(0));
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** Whether 127.0.0.1:port can be bound now. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await tryListen(port)) !== undefined;
}
