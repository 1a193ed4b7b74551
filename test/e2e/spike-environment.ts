// The "ready before the spike" scenario: a demand of BASE with a one-hour plateau at PEAK every day,
// the next one due a few minutes from now; Prometheus holds three days of it as history and scrapes
// its live continuation from a trace exporter; a cluster with fake nodes runs the workload.
// Used by ready-before-spike.test.ts and by hack/e2e-env.sh (environment-main.ts).
import { join } from 'node:path';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { startExporter, type Exporter } from '../helpers/exporter.js';
import { DAY, MIN, dailyPlateau, minutePoints, withNoise } from '../helpers/history.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

export const DEMAND_METRIC = 'demand';
export const DEMAND_LABELS = { app: 'web' };
export const BASE = 100;
export const PEAK = 1000;
/** Matches targetPerReplica in manifests/web.yaml. */
export const PER_REPLICA = 50;
/** Match the fastest and slowest pod start-ups in manifests/web.yaml. */
export const MIN_READY_DELAY_MS = 60_000;
export const MAX_READY_DELAY_MS = 90_000;
export const WORKLOAD_MANIFEST = join('test', 'e2e', 'manifests', 'web.yaml');

export interface SpikeScenario {
  /** When the next daily ramp begins (ms since the epoch). */
  rampStart: number;
  /** Demand at any instant, history and future alike. */
  demand: (t: number) => number;
}

export function spikeScenario(now: number, rampInMs: number): SpikeScenario {
  const rampStart = now + rampInMs;
  return { rampStart, demand: withNoise(dailyPlateau(rampStart, BASE, PEAK, 60 * MIN), 3) };
}

export interface SpikeEnvironment {
  cluster: Cluster;
  prometheus: PrometheusHandle;
  exporter: Exporter;
  close(): Promise<void>;
}

/**
 * Starts the exporter, the cluster (with the CRD applied by kubectl) and Prometheus with `historyDays`
 * of backfilled history ending a minute ago, scraping the exporter every 5 s into the same series.
 */
export async function startSpikeEnvironment(scenario: SpikeScenario, options: { historyDays?: number; nodes?: number } = {}): Promise<SpikeEnvironment> {
  const now = Date.now();
  const historyEnd = now - MIN;
  const exporter = await startExporter({ gauges: [{ name: DEMAND_METRIC, labels: DEMAND_LABELS, value: scenario.demand }] });
  const [cluster, prometheus] = await Promise.allSettled([
    startCluster({ nodes: options.nodes ?? 3 }),
    startPrometheus({
      series: [{ name: DEMAND_METRIC, labels: DEMAND_LABELS, points: minutePoints(historyEnd - (options.historyDays ?? 3) * DAY, historyEnd, scenario.demand) }],
      scrapeConfigs: [exporter.scrapeConfig('5s')],
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
    await cluster.value.kubectl(['apply', '-f', 'crds/']);
    await cluster.value.kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd/predictivescalers.autoscaling.prescale.dev']);
  } catch (err) {
    await close();
    throw err;
  }
  return { cluster: cluster.value, prometheus: prometheus.value, exporter, close };
}
