// Raw TCP exchanges with an HTTP server, for requests no HTTP client would send: bad request lines,
// truncated headers, binary garbage.
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Status codes of every response in what came back (pipelined requests get several). */
  statuses: number[];
  /** Everything the server sent. */
  received: Buffer;
  /** The server closed (or reset) the connection before waitMs ran out. */
  closedByServer: boolean;
  /** The connection was refused or reset. */
  error?: string;
}

export interface RawOptions {
  host?: string;
  /** Written one after another, each after the previous was flushed. */
  chunks: Array<string | Buffer>;
  /** Stop waiting for the server after this long (then the client closes). */
  waitMs: number;
  /** Half-close after writing, as a client that is done sending would. Default false. */
  endAfterWrite?: boolean;
  /** Pause between chunks (a slow client). Default 0. */
  delayMs?: number;
}

export function rawExchange(port: number, options: RawOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: options.host ?? '127.0.0.1', port });
    const parts: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(parts);
      resolve({ statuses: statusCodes(received), received, closedByServer, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(false), options.waitMs);
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      finish(true);
    });
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (const [i, chunk] of options.chunks.entries()) {
        if (i > 0 && options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        if (socket.destroyed) return;
        await new Promise<void>((done) => socket.write(chunk, () => done()));
      }
      if (options.endAfterWrite && !socket.destroyed) socket.end();
    });
  });
}

function statusCodes(received: Buffer): number[] {
  return [...received.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
