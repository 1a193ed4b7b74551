// What the HTML reports plot. Built by the simulate and backtest commands; rendered self-contained.
import type { WindowScore } from '../forecast/decision-window.js';
import type { FrontierSummary, PolicyResult, TimeSeriesData } from '../simulate/types.js';

export interface PolicyTimeline {
  name: string;
  kind: 'prescale' | 'hpa' | 'oracle';
  /** Ready replicas x capacity per replica, per minute. */
  readyCapacity: TimeSeriesData;
  /** Requested replicas per minute. */
  replicas: TimeSeriesData;
  result: PolicyResult;
}

export interface ForecastBand {
  model: string;
  /** The planning quantile the band's upper line shows, e.g. 0.9. */
  quantile: number;
  /** How far ahead each plotted forecast was made (the lead time). */
  aheadMs: number;
  actual: TimeSeriesData;
  mean: TimeSeriesData;
  lower: TimeSeriesData;
  upper: TimeSeriesData;
}

export interface SimulationReportData {
  trace: string;
  generatedAt: string;
  capacityPerReplica: number;
  startupDelaySeconds: number;
  metricLagSeconds: number;
  evaluatedMinutes: number;
  /** Demand per minute over the evaluated span. */
  demand: TimeSeriesData;
  policies: PolicyTimeline[];
  summary: FrontierSummary[];
  forecast?: ForecastBand;
  /** Notes shown under the title, e.g. gaps found in the trace and how they were filled. */
  notes: string[];
}

export interface BacktestFold {
  /** Timestamp of the first forecast point. */
  origin: number;
  stepMs: number;
  /** What happened over the horizon, and shortly before it for context. */
  context: TimeSeriesData;
  actual: number[];
  models: { name: string; mean: number[]; lower: number[]; upper: number[] }[];
}

export interface BacktestReportData {
  trace: string;
  generatedAt: string;
  horizonMs: number;
  quantile: number;
  /** The scaler interval that sets each decision window's width. */
  intervalMs: number;
  models: {
    name: string;
    mase: number;
    smape: number;
    coverage: number;
    fitSeconds: number;
    predictMillis: number;
    /** Decision-window scores, one per lead time (the same lead times for every model). */
    windows: WindowScore[];
  }[];
  folds: BacktestFold[];
  notes: string[];
}
