// Reading the running system: /proc samples of the operator process, scrapes of its /metrics and
// Prometheus' own /metrics, reconcile timestamps from its debug log, and its requests from the audit log.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { countRequests, cpuSecondsFromStat, parseExposition, rssBytesFromStatus, sumOf, type AuditEvent, type Sample } from './measure.js';

export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return parseExposition(await response.text());
}

export interface ProcessSample {
  t: number;
  rssBytes: number;
  cpuSeconds: number;
  load1: number;
}

export async function sampleProcess(pid: number, clockTicks: number): Promise<ProcessSample> {
  const [status, stat, loadavg] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile('/proc/loadavg', 'utf8'),
  ]);
  return { t: Date.now(), rssBytes: rssBytesFromStatus(status), cpuSeconds: cpuSecondsFromStat(stat, clockTicks), load1: Number(loadavg.split(' ')[0]) };
}

export interface OperatorSample {
  t: number;
  reconciles: number;
  trainingQueueDepth: number;
  trainingRunning: number;
  trainingsSucceeded: number;
  trainingsFailed: number;
  eventLoopLagP99Seconds: number;
}

export function operatorSample(samples: Sample[]): OperatorSample {
  const trainings = samples.filter((s) => s.name === 'prescale_model_trainings_total');
  return {
    t: Date.now(),
    reconciles: sumOf(samples, 'prescale_reconcile_duration_seconds_count'),
    trainingQueueDepth: sumOf(samples, 'prescale_training_queue_depth'),
    trainingRunning: sumOf(samples, 'prescale_training_running'),
    trainingsSucceeded: trainings.filter((s) => s.labels.outcome === 'success').reduce((a, s) => a + s.value, 0),
    trainingsFailed: trainings.filter((s) => s.labels.outcome !== 'success').reduce((a, s) => a + s.value, 0),
    eventLoopLagP99Seconds: sumOf(samples, 'prescale_event_loop_lag_p99_seconds'),
  };
}

/**
 * Samples the operator every `everyMs` until stopped: /proc each time, its /metrics every `scrapeEvery`
 * samples (a scrape of 1,000 scalers' gauges is itself work for the operator, as Prometheus' would be).
 */
export function startSampler(pid: number, metricsUrl: string, clockTicks: number, everyMs = 5_000, scrapeEvery = 1) {
  const processSamples: ProcessSample[] = [];
  const operatorSamples: OperatorSample[] = [];
  let n = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        processSamples.push(await sampleProcess(pid, clockTicks));
        if (n++ % scrapeEvery === 0) operatorSamples.push(operatorSample(await scrape(metricsUrl)));
      } catch {
        // A scrape that times out under load is a missing sample, not a failed bench.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    processSamples,
    operatorSamples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Completion times of every 'reconciled' debug line, per scaler; plus other messages' counts. */
export async function readOperatorLog(path: string): Promise<{ reconciled: Map<string, number[]>; messages: Record<string, number> }> {
  const reconciled = new Map<string, number[]>();
  const messages: Record<string, number> = {};
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    let entry: { msg?: string; time?: string | number; scaler?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const msg = entry.msg ?? '';
    messages[msg] = (messages[msg] ?? 0) + 1;
    // The operator logs ISO times; epoch milliseconds are pino's default.
    const time = typeof entry.time === 'string' ? Date.parse(entry.time) : entry.time;
    if (msg === 'reconciled' && entry.scaler && time !== undefined && Number.isFinite(time)) {
      const list = reconciled.get(entry.scaler) ?? [];
      list.push(time);
      reconciled.set(entry.scaler, list);
    }
  }
  return { reconciled, messages };
}

/** The operator's requests in [from, to], read from the API server's audit log. */
export async function auditedRequests(path: string, from: number, to: number) {
  async function* events(): AsyncGenerator<AuditEvent> {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.startsWith('{')) yield JSON.parse(line) as AuditEvent;
    }
  }
  const collected: AuditEvent[] = [];
  for await (const e of events()) collected.push(e);
  return countRequests(collected, from, to);
}
