// The metrics and health ports of `prescale run` (a process, under the deploy/ ServiceAccount token,
// against a real API server) fuzzed over raw TCP: random request lines, methods, paths, headers,
// binary garbage, truncated and pipelined requests, connections that never finish their headers, and
// more connections than the servers admit. The process must never exit, never log an unhandled
// rejection, answer only with the statuses a malformed request deserves, keep its memory bounded, and
// still answer /healthz at the end. PRESCALE_FUZZ_SEED reproduces a run; the seed is in every failure.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { eventually } from '../helpers/eventually.js';
import { installOperatorManifests, startDeployedOperator, type DeployedOperator } from '../helpers/deployed-operator.js';
import { uniform } from '../helpers/random.js';
import { rawExchange, type RawExchange } from '../helpers/raw-http.js';

const SEED = Number(process.env.PRESCALE_FUZZ_SEED ?? 20_260_311);
const REQUESTS = 2500;
const PARALLEL = 32;
// What a malformed or unknown request may get (417: an Expect other than 100-continue); 500 would
// mean a handler threw, 100 that the server invited a body it never reads.
const EXPECTED_STATUSES = new Set([200, 400, 404, 405, 408, 417, 431, 503]);

let plane: ControlPlane;
let operator: DeployedOperator;
let exited = false;

beforeAll(async () => {
  plane = await startControlPlane();
  await installOperatorManifests(plane);
  operator = await startDeployedOperator(plane);
  void operator.process.exited.then(() => (exited = true));
}, 180_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.close();
});

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const bytes = (random: Random, n: number) => Buffer.from(Array.from({ length: n }, () => int(random, 0, 255)));
const printable = (random: Random, n: number) => String.fromCharCode(...Array.from({ length: n }, () => int(random, 0x20, 0x7e)));

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'CONNECT', 'PRI', 'get', 'G\u0000T', 'BREW', ''];
const PATHS = ['/healthz', '/readyz', '/metrics', '/', '//', '//healthz', 'http://x/', 'http://127.0.0.1/metrics', 'https://x:1/healthz', '*', 'localhost:80', '/healthz?verbose', '/metrics#x', '/%00', '/..%2f..%2fetc/passwd', '/\\metrics', '/healthz/', '/HEALTHZ', '/constructor', '/__proto__', '/hasOwnProperty', '/toString'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', 'http/1.1', 'HTTP/1.11', ''];
const EOLS = ['\r\n', '\r\n', '\r\n', '\n', '\r'];
const HEADERS = [
  'Host: x',
  'Connection: close',
  'Connection: keep-alive',
  'Connection: Upgrade',
  'Upgrade: websocket',
  'Upgrade: h2c',
  'Expect: 100-continue',
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 99999999999999999999',
  'Content-Length: -1',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip, chunked',
  'Authorization: Bearer abc',
  'Accept-Encoding: gzip',
  'X-Forwarded-For: 127.0.0.1',
  ' folded: continuation',
  'NoColon',
  ': empty-name',
  'Bad Name: v',
];

/** One connection's bytes, and whether the client half-closes after sending them. */
interface FuzzCase {
  kind: string;
  chunks: Buffer[];
  end: boolean;
}

function requestText(random: Random): string {
  const eol = pick(random, EOLS);
  const method = random() < 0.05 ? printable(random, int(random, 1, 20)) : pick(random, METHODS);
  let path = random() < 0.1 ? `/${printable(random, int(random, 0, 300))}` : pick(random, PATHS);
  if (random() < 0.02) path = `/${'a'.repeat(int(random, 10_000, 40_000))}`;
  const headers: string[] = [];
  if (random() < 0.85) headers.push('Host: 127.0.0.1');
  for (let i = int(random, 0, 6); i > 0; i--) headers.push(pick(random, HEADERS));
  if (random() < 0.1) headers.push(`X-${printable(random, int(random, 1, 30)).replace(/[:\s]/g, '')}: ${printable(random, int(random, 0, 200))}`);
  if (random() < 0.02) headers.push(`X-Huge: ${'v'.repeat(int(random, 8_000, 70_000))}`);
  if (random() < 0.02) for (let i = 0; i < 300; i++) headers.push(`X-Many-${i}: ${i}`);
  const body = random() < 0.15 ? pick(random, ['hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', printable(random, 100)]) : '';
  return `${method} ${path} ${pick(random, VERSIONS)}`.trimEnd() + eol + headers.map((h) => h + eol).join('') + eol + body;
}

function fuzzCase(random: Random): FuzzCase {
  const roll = random();
  if (roll < 0.1) return { kind: 'binary garbage', chunks: [bytes(random, int(random, 1, 4096))], end: random() < 0.5 };
  if (roll < 0.15) {
    const tls = Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), bytes(random, int(random, 2, 300))]);
    return { kind: 'TLS-looking garbage', chunks: [tls], end: true };
  }
  if (roll < 0.3) {
    const text = Buffer.from(requestText(random), 'latin1');
    return { kind: 'truncated request', chunks: [text.subarray(0, int(random, 0, text.length))], end: true };
  }
  if (roll < 0.4) {
    const texts = Array.from({ length: int(random, 2, 5) }, () => requestText(random));
    return { kind: 'pipelined requests', chunks: [Buffer.from(texts.join(''), 'latin1')], end: random() < 0.5 };
  }
  if (roll < 0.5) {
    // The same request split into many small writes.
    const text = Buffer.from(requestText(random), 'latin1');
    const chunks: Buffer[] = [];
    for (let at = 0; at < text.length; ) {
      const size = int(random, 1, 64);
      chunks.push(text.subarray(at, at + size));
      at += size;
    }
    return { kind: 'request in pieces', chunks, end: random() < 0.5 };
  }
  return { kind: 'random request', chunks: [Buffer.from(requestText(random), 'latin1')], end: random() < 0.5 };
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const ok = (port: number, path: string) => rawExchange(port, { chunks: [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`], waitMs: 5000 });

function problemsIn(operatorLogs: readonly Record<string, unknown>[]): string[] {
  return operatorLogs
    .filter((l) => l.level === 'fatal' || /unhandled|uncaught|HTTP request handling failed|HTTP handler failed|HTTP server error/.test(String(l.msg)))
    .map((l) => JSON.stringify(l).slice(0, 400));
}

describe(`HTTP servers of prescale run under fuzzing (seed ${SEED})`, () => {
  it('answer every malformed request without crashing, leaking memory or a 500, and keep serving /healthz', async () => {
    const { metricsPort, probesPort, process: child } = operator;
    expect((await ok(probesPort, '/healthz')).statuses).toEqual([200]);
    const rssBefore = await rssBytes(child.pid);

    // Slowloris: connections that send a header line now and then and never finish; the server must
    // close each of them itself, while the fuzzing below goes on.
    const slowloris = Array.from({ length: 16 }, (_, i) =>
      rawExchange(i % 2 ? metricsPort : probesPort, {
        chunks: ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 60 }, (_, j) => `X-Slow-${j}: ${j}\r\n`)].map((c) => Buffer.from(c)),
        waitMs: 45_000,
        delayMs: 500,
      }),
    );

    const random = uniform(SEED);
    const cases = Array.from({ length: REQUESTS }, () => fuzzCase(random));
    const ports = cases.map(() => (random() < 0.5 ? metricsPort : probesPort));
    const unexpected: string[] = [];
    let answered = 0;
    for (let start = 0; start < cases.length; start += PARALLEL) {
      const batch = cases.slice(start, start + PARALLEL);
      const results: RawExchange[] = await Promise.all(batch.map((c, i) => rawExchange(ports[start + i]!, { chunks: c.chunks, waitMs: 250, endAfterWrite: c.end })));
      results.forEach((result, i) => {
        if (result.statuses.length > 0) answered++;
        const bad = result.statuses.filter((s) => !EXPECTED_STATUSES.has(s));
        if (bad.length > 0) unexpected.push(`case ${start + i} (${batch[i]!.kind}): ${bad.join(',')} for ${JSON.stringify(batch[i]!.chunks.map((c) => c.toString('latin1')).join('').slice(0, 200))}`);
      });
      expect(exited, `operator exited during batch starting at case ${start}; stderr:\n${child.stderr.slice(-2000)}`).toBe(false);
    }
    expect(unexpected, `seed ${SEED}`).toEqual([]);
    // The fuzz reached the handlers, not only the parser's error path.
    expect(answered).toBeGreaterThan(REQUESTS / 4);

    // More connections than the server admits: the excess is refused, and the server recovers.
    const flood = await Promise.all(Array.from({ length: 200 }, () => rawExchange(probesPort, { chunks: ['GET /healthz HTTP/1.1\r\n'], waitMs: 2000 })));
    expect(flood.some((r) => r.closedByServer)).toBe(true);

    const slow = await Promise.all(slowloris);
    expect(slow.map((r) => r.closedByServer), 'the server closes connections whose headers never finish').toEqual(Array(16).fill(true));

    expect(exited, `stderr:\n${child.stderr.slice(-2000)}`).toBe(false);
    expect(problemsIn(child.logs)).toEqual([]);
    expect(child.stderr).toBe('');
    // Once the server has seen the flood's connections close, it admits new ones again.
    await eventually('/healthz after the flood', () => ok(probesPort, '/healthz'), (r) => r.statuses[0] === 200, 10_000, 100);
    expect((await ok(probesPort, '/readyz')).statuses).toEqual([200]);
    expect((await ok(metricsPort, '/metrics')).statuses).toEqual([200]);
    // Nothing a request left behind is kept: a few thousand requests leave the heap where it was,
    // give or take what the JIT and the allocator keep.
    const rssAfter = await rssBytes(child.pid);
    expect(rssAfter - rssBefore, `RSS ${rssBefore} -> ${rssAfter} bytes`).toBeLessThan(96 * 1024 * 1024);
  }, 170_000);
});
