// A trace-driven Prometheus exporter for tests: an HTTP server on a random loopback port whose
// /metrics serves gauges whose values are functions of the wall-clock time (a demand curve), so a
// real Prometheus scraping it sees the live continuation of a series whose past was backfilled.
//
// scrapeConfig() drops the `job` and `instance` labels Prometheus attaches to scraped samples:
// the live samples then belong to the very series the backfilled history holds (same name, same
// labels), and a query sees history and live points as one series.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExportedGauge {
  name: string;
  labels?: Record<string, string>;
  /** The value at a wall-clock instant (ms since the epoch). */
  value: (nowMs: number) => number;
  help?: string;
  /** The exposition's TYPE; default gauge. */
  type?: 'gauge' | 'counter';
}

export interface ExporterOptions {
  gauges: ExportedGauge[];
  /** Default Date.now. */
  clock?: () => number;
}

export interface Exporter {
  /** http://127.0.0.1:<port>/metrics */
  url: string;
  /** 127.0.0.1:<port>, a Prometheus static target. */
  target: string;
  /** An entry for startPrometheus({ scrapeConfigs }) that scrapes this exporter every `interval`. */
  scrapeConfig(interval?: string, jobName?: string): object;
  close(): Promise<void>;
}

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const clock = options.clock ?? Date.now;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(options.gauges, clock()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const target = `127.0.0.1:${port}`;
  return {
    url: `http://${target}/metrics`,
    target,
    scrapeConfig: (interval = '5s', jobName = 'trace-exporter') => ({
      job_name: jobName,
      scrape_interval: interval,
      scrape_timeout: interval,
      static_configs: [{ targets: [target] }],
      metric_relabel_configs: [{ action: 'labeldrop', regex: 'job|instance' }],
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Prometheus text exposition of the gauges at `nowMs`, without timestamps (Prometheus stamps the scrape). */
export function exposition(gauges: ExportedGauge[], nowMs: number): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  // A metric family's samples must be contiguous.
  const byName = [...gauges].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const g of byName) {
    if (!seen.has(g.name)) {
      seen.add(g.name);
      lines.push(`# HELP ${g.name} ${g.help ?? 'Test gauge following a function of time.'}`, `# TYPE ${g.name} ${g.type ?? 'gauge'}`);
    }
    const labels = Object.entries(g.labels ?? {})
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    lines.push(`${labels ? `${g.name}{${labels}}` : g.name} ${g.value(nowMs)}`);
  }
  return `${lines.join('\n')}\n`;
}
