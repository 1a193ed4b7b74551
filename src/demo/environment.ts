// The demo's world on loopback: a cluster of KWOK nodes (etcd, kube-apiserver, controller-manager,
// scheduler, KWOK), a trace exporter serving each example's request counter as the replayed trace
// dictates, and Prometheus holding the same counters' history (backfilled) and scraping their live
// continuation. The CRD, deploy/'s RBAC and the examples are applied.
import { startCluster, type Cluster } from './env/cluster.js';
import { startExporter, type ExportedGauge, type Exporter } from './env/exporter.js';
import { startPrometheus, type BackfillSeries, type PrometheusHandle } from './env/prometheus.js';
import { counterSamples, type TraceReplay } from './trace-replay.js';
import { toYaml, type DemoWorkload } from './workloads.js';

/** The trace's 99th percentile becomes this share of a scaler's capacity at maxReplicas. */
export const PEAK_SHARE_OF_MAX = 0.75;
/** Backfilled samples are this far apart: rate() over the examples' [1m] windows sees four. */
const HISTORY_STEP_MS = 15_000;
const SCRAPE_INTERVAL = '5s';

export interface DemoEnvironment {
  cluster: Cluster;
  prometheus: PrometheusHandle;
  exporter: Exporter;
  close(): Promise<void>;
}

export interface DemoEnvironmentOptions {
  replay: TraceReplay;
  workloads: DemoWorkload[];
  /** The wall clock: the backfilled history ends at the moment it is written, so that Prometheus'
   * first scrapes follow it within seconds and no rate() window straddles a gap. */
  now: () => number;
  /** Wall-clock span of history to backfill before now. */
  historyWallMs: number;
  progress: (line: string) => void;
}

/** Requests per second the trace's normalised level 1 stands for, for one workload. */
export function requestScale(workload: DemoWorkload): number {
  return PEAK_SHARE_OF_MAX * workload.capacityAtMax;
}

export function exportedCounters(replay: TraceReplay, workloads: DemoWorkload[]): ExportedGauge[] {
  return workloads.map((w) => ({
    name: w.counter.name,
    labels: w.counter.labels,
    type: 'counter' as const,
    help: `Requests of the demo's ${w.example} example, replaying the trace.`,
    value: (t: number) => requestScale(w) * replay.cumulative(t),
  }));
}

export function historySeries(replay: TraceReplay, workloads: DemoWorkload[], fromMs: number, toMs: number): BackfillSeries[] {
  return workloads.map((w) => ({
    name: w.counter.name,
    labels: w.counter.labels,
    points: counterSamples(replay, requestScale(w), fromMs, toMs, HISTORY_STEP_MS),
  }));
}

export async function startDemoEnvironment(options: DemoEnvironmentOptions): Promise<DemoEnvironment> {
  const { replay, workloads, progress } = options;
  const exporter = await startExporter({ gauges: exportedCounters(replay, workloads), clock: options.now });
  const historyEnd = options.now();
  const historyStart = Math.max(replay.historyStartWallMs, historyEnd - options.historyWallMs);
  progress(`starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK; loading ${Math.round((historyEnd - historyStart) / 86_400_000)} days of history into Prometheus`);
  const [cluster, prometheus] = await Promise.allSettled([
    startCluster({ nodes: 3 }),
    startPrometheus({
      series: historySeries(replay, workloads, historyStart, historyEnd),
      scrapeConfigs: [exporter.scrapeConfig(SCRAPE_INTERVAL, 'demo-trace')],
    }),
  ]);
  const close = async () => {
    await Promise.all([
      cluster.status === 'fulfilled' ? cluster.value.close() : undefined,
      prometheus.status === 'fulfilled' ? prometheus.value.close() : undefined,
      exporter.close(),
    ]);
  };
  if (cluster.status === 'rejected' || prometheus.status === 'rejected') {
    await close();
    throw cluster.status === 'rejected' ? cluster.reason : (prometheus as PromiseRejectedResult).reason;
  }
  try {
    const kubectl = cluster.value.kubectl;
    progress('applying the CRD, deploy/ (namespace, ServiceAccount, RBAC) and the examples');
    await kubectl(['apply', '--server-side', '-f', 'crds/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd/predictivescalers.autoscaling.prescale.dev']);
    await kubectl(['apply', '-k', 'deploy/']);
    await kubectl(['apply', '-f', '-'], { input: toYaml(workloads) });
  } catch (err) {
    await close();
    throw err;
  }
  return { cluster: cluster.value, prometheus: prometheus.value, exporter, close };
}
