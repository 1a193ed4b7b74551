// Synthetic but realistic report inputs: a daily-seasonal demand with noise and bursts, policies
// that follow it with different lags and headroom, and a forecast band around it.
import type { BacktestReportData, PolicyTimeline, SimulationReportData } from '../../../src/report/types.js';
import type { PolicyResult, TimeSeriesData } from '../../../src/simulate/types.js';
import { uniform } from '../../helpers/random.js';

const MINUTE = 60_000;
const START = Date.UTC(2024, 2, 4, 0, 0);

/** A deterministic pseudo-random generator. */
export const random = uniform;

export function demandSeries(minutes: number, seed = 1): TimeSeriesData {
  const rnd = random(seed);
  const values: number[] = [];
  let burst = 0;
  for (let i = 0; i < minutes; i++) {
    const dayPhase = ((i % 1440) / 1440) * 2 * Math.PI;
    const weekday = Math.floor(i / 1440) % 7 < 5 ? 1 : 0.7;
    if (rnd() < 0.002) burst = 60 + rnd() * 120;
    burst *= 0.93;
    values.push(Math.max(5, weekday * (200 + 150 * Math.sin(dayPhase - Math.PI / 2)) + burst + (rnd() - 0.5) * 30));
  }
  return { start: START, stepMs: MINUTE, values };
}

/** Ready capacity of a policy that sees demand `lag` minutes late and keeps `headroom` spare. */
function follower(demand: TimeSeriesData, capacity: number, lagMinutes: number, headroom: number): number[] {
  return demand.values.map((_, i) => {
    const seen = demand.values[Math.max(0, i - lagMinutes)];
    return Math.max(1, Math.ceil((seen * headroom) / capacity)) * capacity;
  });
}

function account(name: string, demand: TimeSeriesData, ready: number[], capacity: number): PolicyResult {
  let under = 0;
  let unserved = 0;
  let events = 0;
  ready.forEach((c, i) => {
    const d = demand.values[i];
    if (d > c) {
      under++;
      unserved += d - c;
    }
    if (i > 0 && c !== ready[i - 1]) events++;
  });
  const replicaMinutes = ready.reduce((s, c) => s + c / capacity, 0);
  return { name, underProvisionedMinutes: under, underProvisionedFraction: under / ready.length, unservedDemand: unserved, replicaMinutes, scaleEvents: events };
}

function timeline(name: string, kind: PolicyTimeline['kind'], demand: TimeSeriesData, ready: number[], capacity: number): PolicyTimeline {
  return {
    name,
    kind,
    readyCapacity: { start: demand.start, stepMs: MINUTE, values: ready },
    replicas: { start: demand.start, stepMs: MINUTE, values: ready.map((c) => c / capacity) },
    result: account(name, demand, ready, capacity),
  };
}

export interface SimulationFixtureOptions {
  days?: number;
  hpaTargets?: number[];
  quantiles?: number[];
  trace?: string;
  policyNames?: (kind: PolicyTimeline['kind'], parameter: number) => string;
}

export function simulationReport(options: SimulationFixtureOptions = {}): SimulationReportData {
  const minutes = Math.round((options.days ?? 3) * 1440);
  const capacity = 20;
  const demand = demandSeries(minutes);
  const nameOf = options.policyNames ?? ((kind, p) => (kind === 'hpa' ? `hpa@${p}` : kind === 'prescale' ? `prescale@q${p}` : 'oracle'));
  const policies: PolicyTimeline[] = [timeline(nameOf('oracle', 0), 'oracle', demand, follower(demand, capacity, 0, 1), capacity)];
  for (const target of options.hpaTargets ?? [1, 0.9, 0.8, 0.7, 0.6, 0.5]) {
    policies.push(timeline(nameOf('hpa', target), 'hpa', demand, follower(demand, capacity, 4, 1 / target), capacity));
  }
  for (const q of options.quantiles ?? [0.5, 0.8, 0.9, 0.95, 0.99]) {
    policies.push(timeline(nameOf('prescale', q), 'prescale', demand, follower(demand, capacity, 2, 1.05 + (q - 0.5) * 0.6), capacity));
  }
  const hpaUnder = (p: PolicyTimeline) => p.result.underProvisionedMinutes;
  const summary = policies
    .filter((p) => p.kind === 'prescale')
    .map((p, i) => ({
      policy: p.name,
      underRatioAtEqualCost: i === 0 ? null : Math.round((hpaUnder(p) / Math.max(1, hpaUnder(policies[1]))) * 100) / 100 + 0.1,
      costRatioAtEqualUnder: i === policies.length - 1 ? null : 0.8 + i * 0.03,
    }));
  const rnd = random(7);
  const mean = demand.values.map((v) => v * (0.95 + rnd() * 0.1));
  return {
    trace: options.trace ?? 'nab-ec2-cpu-utilization-24ae8d.csv',
    generatedAt: '2024-03-18T09:30:00.000Z',
    capacityPerReplica: capacity,
    startupDelaySeconds: 120,
    metricLagSeconds: 60,
    evaluatedMinutes: minutes,
    demand,
    policies,
    summary,
    forecast: {
      model: 'ensemble',
      quantile: 0.9,
      aheadMs: 5 * MINUTE,
      actual: demand,
      mean: { start: START, stepMs: MINUTE, values: mean },
      lower: { start: START, stepMs: MINUTE, values: mean.map((v) => v * 0.85) },
      upper: { start: START, stepMs: MINUTE, values: mean.map((v) => v * 1.15) },
    },
    notes: ['2 gaps in the trace (17 minutes in total) were filled by linear interpolation.'],
  };
}

export function backtestReport(options: { folds?: number; models?: string[]; trace?: string } = {}): BacktestReportData {
  const demand = demandSeries(14 * 1440, 3);
  const models = options.models ?? ['seasonal-naive', 'holt-winters', 'linear', 'ensemble'];
  const rnd = random(11);
  const horizon = 30;
  const foldCount = options.folds ?? 12;
  const folds = Array.from({ length: foldCount }, (_, k) => {
    const originIndex = 3 * 1440 + k * 997;
    const contextStart = originIndex - 180;
    return {
      origin: START + originIndex * MINUTE,
      stepMs: MINUTE,
      context: { start: START + contextStart * MINUTE, stepMs: MINUTE, values: demand.values.slice(contextStart, originIndex) },
      actual: demand.values.slice(originIndex, originIndex + horizon),
      models: models.map((name, m) => {
        const level = demand.values[originIndex - 1] * (0.9 + 0.05 * m + rnd() * 0.1);
        const mean = Array.from({ length: horizon }, (_, i) => level + i * (m - 1.5) * 0.8);
        return { name, mean, lower: mean.map((v, i) => v - 10 - i), upper: mean.map((v, i) => v + 10 + i) };
      }),
    };
  });
  return {
    trace: options.trace ?? 'alibaba-2018-cluster-cpu.csv',
    generatedAt: '2024-03-18T09:30:00.000Z',
    horizonMs: horizon * MINUTE,
    quantile: 0.9,
    intervalMs: 30_000,
    models: models.map((name, m) => ({
      name,
      mase: [1.0, 0.82, 1.37, 0.74, 0.9][m % 5],
      smape: 12 + m * 2.5,
      coverage: [0.81, 0.88, 0.93, 0.9, 0.7][m % 5],
      fitSeconds: 0.01 + m * 0.4,
      predictMillis: 0.2 + m * 1.1,
      windows: [2, 10].map((leadMinutes, l) => ({
        leadMs: leadMinutes * MINUTE,
        mase: [0.41, 0.55, 1.2, 0.38, 0.6][(m + l) % 5],
        coverage: [0.75, 0.93, 0.83, 0.88, 1][(m + 2 * l) % 5],
        overForecast: 0.3 + 0.1 * m + 0.05 * l,
        underForecast: 0.2 - 0.03 * m + 0.02 * l,
        folds: 12,
      })),
    })),
    folds,
    notes: [],
  };
}
