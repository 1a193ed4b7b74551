// Starts a real Prometheus on a random loopback port with backfilled history, for integration and
// end-to-end tests. History is written as OpenMetrics, turned into TSDB blocks with
// `promtool tsdb create-blocks-from openmetrics`, and Prometheus is started on that storage.
//
// What works with backfilled data (checked against Prometheus 2.42 by test/integration/prometheus.test.ts):
// - History ending a minute before "now" is served, also while Prometheus scrapes targets into its
//   head block: since 2.39 overlapping blocks are always allowed and queries merge blocks and head.
//   So there is no need to keep backfilled history hours in the past.
// - Backfilled series carry no staleness markers: after a series' last sample, Prometheus keeps
//   returning that sample for `lookbackDelta` (default 5m). Pass a smaller lookbackDelta when a test
//   needs the end of the history to show up as missing points.
// - Retention is measured back from the newest block, so it is set long (3650d) to keep old history.
// - The first scrape of a configured target happens about 5 s after start-up (service discovery
//   batches its first update), whatever the scrape interval.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface BackfillSeries {
  name: string;
  labels?: Record<string, string>;
  /** [timestamp in ms, value] */
  points: [number, number][];
}

export interface StartPrometheusOptions {
  series?: BackfillSeries[];
  /** Entries of `scrape_configs` in prometheus.yml (objects; written as JSON, which is YAML). */
  scrapeConfigs?: object[];
  /** e.g. "1m"; Prometheus' default is 5m. */
  lookbackDelta?: string;
  extraArgs?: string[];
  /**
   * Require HTTP basic auth (Prometheus' --web.config.file). Prometheus stores only the bcrypt hash
   * of the password; the plain password is used here to probe readiness.
   */
  basicAuth?: { username: string; password: string; bcryptHash: string };
  prometheusBinary?: string;
  promtoolBinary?: string;
  /** How long to wait for /-/ready. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface PrometheusHandle {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the process (SIGTERM, then SIGKILL); the port and the data stay. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, after stop(). */
  start(): Promise<void>;
  /** Stops the process and removes its temporary directory. */
  close(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;

// Every process started here, so a worker that exits without calling close() still kills them.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusHandle> {
  const workDir = await mkdtemp(join(tmpdir(), 'prescale-prometheus-'));
  const dataDir = join(workDir, 'data');
  const configFile = join(workDir, 'prometheus.yml');
  try {
    await writeFile(configFile, prometheusConfig(options.scrapeConfigs ?? []));
    if (options.basicAuth) {
      await writeFile(join(workDir, 'web.yml'), `basic_auth_users:\n  ${options.basicAuth.username}: '${options.basicAuth.bcryptHash}'\n`);
    }
    if (options.series && options.series.some((s) => s.points.length > 0)) {
      const metricsFile = join(workDir, 'history.om');
      await writeFile(metricsFile, toOpenMetrics(options.series));
      // Bigger blocks than the default 2h make the import and Prometheus' start-up much faster.
      await run(options.promtoolBinary ?? 'promtool', [
        'tsdb', 'create-blocks-from', 'openmetrics', '--quiet', '--max-block-duration=720h', metricsFile, dataDir,
      ]);
    }
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    '--storage.tsdb.retention.time=3650d',
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    ...(options.lookbackDelta ? [`--query.lookback-delta=${options.lookbackDelta}`] : []),
    ...(options.basicAuth ? [`--web.config.file=${join(workDir, 'web.yml')}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const readyHeaders: Record<string, string> = options.basicAuth
    ? { authorization: `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}` }
    : {};
  const binary = options.prometheusBinary ?? 'prometheus';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  let child: ChildProcess | undefined;
  let logTail = '';

  const start = async () => {
    if (child) throw new Error('Prometheus is already running');
    logTail = '';
    child = spawnWithParentDeathSignal(binary, args);
    running.add(child);
    const current = child;
    const keepTail = (chunk: Buffer) => {
      logTail = (logTail + chunk.toString()).slice(-LOG_TAIL_CHARS);
    };
    current.stdout?.on('data', keepTail);
    current.stderr?.on('data', keepTail);
    current.once('exit', () => running.delete(current));
    try {
      await waitReady(url, current, readyTimeoutMs, () => logTail, readyHeaders);
    } catch (error) {
      await stop();
      throw error;
    }
  };

  const stop = async () => {
    const current = child;
    child = undefined;
    if (current) await terminate(current);
  };

  const close = async () => {
    await stop();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  return { url, port, dataDir, start, stop, close };
}

/** OpenMetrics text: one family per metric name, samples as `name{labels} value unix_seconds`. */
export function toOpenMetrics(series: BackfillSeries[]): string {
  const byName = new Map<string, BackfillSeries[]>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const lines: string[] = [];
  for (const [name, family] of byName) {
    lines.push(`# TYPE ${name} gauge`);
    for (const s of family) {
      const labels = Object.entries(s.labels ?? {})
        .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
        .join(',');
      const selector = labels ? `${name}{${labels}}` : name;
      const points = [...s.points].sort((a, b) => a[0] - b[0]);
      for (const [tsMs, value] of points) lines.push(`${selector} ${formatValue(value)} ${tsMs / 1000}`);
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function prometheusConfig(scrapeConfigs: object[]): string {
  return JSON.stringify({
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    scrape_configs: scrapeConfigs,
  }, null, 2);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

// With setpriv (util-linux) the kernel kills Prometheus when the test worker dies, even by SIGKILL,
// where no exit hook runs.
function spawnWithParentDeathSignal(binary: string, args: string[]): ChildProcess {
  const setpriv = findOnPath('setpriv');
  const [command, commandArgs] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', binary, ...args]]
    : [binary, args];
  return spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, log: () => string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Prometheus exited during start-up:\n${log()}`);
    try {
      const response = await fetch(`${url}/-/ready`, { headers, signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Prometheus at ${url} not ready after ${timeoutMs} ms:\n${log()}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-LOG_TAIL_CHARS)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-LOG_TAIL_CHARS)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}
