// One HTTP POST to a Prometheus-compatible server with bounded cost: a deadline for the whole
// exchange, no redirects, and caps on the bytes read from the wire and after decompression, so that
// neither a tarpit nor a decompression bomb at a tenant's URL can hold the operator or exhaust its heap.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** Deadline of the exchange, connect to last byte. */
  timeoutMs: number;
  /** Aborts the exchange early, e.g. the reconcile's own deadline. */
  signal?: AbortSignal;
  /** Largest body read from the socket (compressed). */
  maxWireBytes: number;
  /** Largest body after decompression. */
  maxBodyBytes: number;
}

export interface PostResponse {
  status: number;
  contentType: string;
  location?: string;
  body: Buffer;
}

export type TransportFailure =
  | 'timeout'
  | 'aborted'
  | 'refused'
  | 'reset'
  | 'unresolved'
  | 'tooLarge'
  | 'badEncoding'
  | 'network';

/** The exchange did not produce a whole answer; `kind` says why, `detail` is safe to show. */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'TransportError';
  }
}

export function post(url: URL, options: PostOptions): Promise<PostResponse> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: TransportError | undefined, response?: PostResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(response!);
    };
    const timer = setTimeout(() => finish(new TransportError('timeout', `no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = () => finish(new TransportError('aborted', 'the reconcile deadline passed before Prometheus answered'));
    const auth = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        auth,
        headers: {
          ...options.headers,
          'Accept-Encoding': 'gzip, deflate, br',
          'Content-Length': String(Buffer.byteLength(options.body)),
        },
        // No agent keep-alive tricks: one request, one socket, closed when done.
        agent: false,
      },
      (res) => readBody(res, options, finish),
    );
    req.on('error', (err) => finish(describeSocketError(err)));
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(options.body);
  });
}

function readBody(
  res: IncomingMessage,
  options: PostOptions,
  finish: (error: TransportError | undefined, response?: PostResponse) => void,
): void {
  const status = res.statusCode ?? 0;
  const head = {
    status,
    contentType: String(res.headers['content-type'] ?? ''),
    ...(typeof res.headers.location === 'string' ? { location: res.headers.location } : {}),
  };
  // A redirect's body is never read: it is not followed, only reported.
  if (status >= 300 && status < 400) {
    res.destroy();
    finish(undefined, { ...head, body: Buffer.alloc(0) });
    return;
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxWireBytes) {
    finish(tooLarge(`the answer declares ${declared} bytes`, options));
    return;
  }
  const decoder = decoderFor(String(res.headers['content-encoding'] ?? 'identity').trim().toLowerCase());
  if (decoder === null) {
    finish(new TransportError('badEncoding', `unsupported Content-Encoding "${String(res.headers['content-encoding']).slice(0, 40)}"`));
    return;
  }
  const fail = (error: TransportError) => {
    decoder?.destroy();
    finish(error);
  };
  const chunks: Buffer[] = [];
  let wireBytes = 0;
  let bodyBytes = 0;
  const collect = (chunk: Buffer) => {
    bodyBytes += chunk.length;
    if (bodyBytes > options.maxBodyBytes) {
      fail(tooLarge('the decompressed answer', options));
      return;
    }
    chunks.push(chunk);
  };
  res.on('data', (chunk: Buffer) => {
    wireBytes += chunk.length;
    if (wireBytes > options.maxWireBytes) {
      fail(tooLarge('the answer', options));
      return;
    }
    if (decoder) decoder.write(chunk);
    else collect(chunk);
  });
  res.on('error', (err) => fail(describeSocketError(err)));
  const done = () => finish(undefined, { ...head, body: Buffer.concat(chunks) });
  if (decoder) {
    decoder.on('data', collect);
    decoder.on('error', () => fail(new TransportError('badEncoding', 'the compressed answer is corrupt')));
    decoder.on('end', done);
    res.on('end', () => decoder.end());
  } else {
    res.on('end', done);
  }
  res.on('aborted', () => fail(new TransportError('reset', 'the connection closed before the answer was complete')));
}

type Decoder = Gunzip | ReturnType<typeof createInflate> | ReturnType<typeof createBrotliDecompress>;

/** undefined: no decoding needed; null: an encoding this client does not read. */
function decoderFor(encoding: string): Decoder | undefined | null {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return null;
  }
}

function tooLarge(what: string, options: PostOptions): TransportError {
  const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
  return new TransportError(
    'tooLarge',
    `${what} exceeds the limit (${mib(options.maxWireBytes)} on the wire, ${mib(options.maxBodyBytes)} decompressed)`,
  );
}

function describeSocketError(err: unknown): TransportError {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return new TransportError('refused', 'connection refused');
    case 'ECONNRESET':
    case 'EPIPE':
      return new TransportError('reset', 'connection reset');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError('unresolved', 'host name not resolved');
    case 'ETIMEDOUT':
      return new TransportError('timeout', 'connection timed out');
    default:
      // Only the code: a TLS or socket error message may quote certificate subjects or addresses.
      return new TransportError('network', typeof code === 'string' ? code : 'network error');
  }
}
