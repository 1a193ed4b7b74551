// One metric's recommendation: max(predictive, reactive when the reactive floor is on), the
// reactive formula alone without a forecast, and a hold at the current count without data.
import type { MetricConfig, ScalerConfig } from '../api/config.js';
import { formatDuration } from '../api/units.js';
import { formatClockUtc, formatNumber, formatPercent, quantileLabel } from './format.js';
import { predictiveReplicas, reactiveReplicas, withinTolerance } from './replicas.js';
import type { MetricDecision, MetricInput } from './types.js';
import { windowPeak, type WindowPeak } from './window.js';

export interface MetricEvaluation {
  decision: MetricDecision;
  /** The replicas this metric asks for. */
  replicas: number;
  /** Which rule produced `replicas`. */
  rule: 'predictive' | 'reactive' | 'noData';
  missingData: boolean;
  /** Explanation fragment, e.g. "rps forecast p90 peak 512 at 14:05 (...) / 40 per replica +10% => 15; reactive 9". */
  text: string;
}

export interface MetricContext {
  now: number;
  config: ScalerConfig;
  currentReplicas: number;
  leadTimeMs: number;
  /** false skips the explanation text (the planner's replays decide millions of times and read none). */
  explain?: boolean;
}

export function evaluateMetric(metric: MetricConfig, input: MetricInput | undefined, ctx: MetricContext): MetricEvaluation {
  const { config, currentReplicas } = ctx;
  const target = metric.targetPerReplica;
  const observed = input?.observed !== undefined && Number.isFinite(input.observed) ? input.observed : undefined;

  const windowStart = ctx.now + ctx.leadTimeMs;
  const peak = input?.forecast
    ? windowPeak(input.forecast, config.forecast.quantile, windowStart, windowStart + config.intervalMs)
    : undefined;
  const tolerance = config.scaling.tolerance;
  const peakDemand = peak ? Math.max(0, peak.value) : undefined;
  const needed = peakDemand !== undefined ? predictiveReplicas(peakDemand, target, config.scaling.headroom) : undefined;
  // Like the HPA's tolerance: a forecast need within the band around the current count keeps it, so
  // small swings of the forecast do not move replicas back and forth.
  const held = needed !== undefined && needed !== currentReplicas && withinTolerance(peakDemand! * (1 + config.scaling.headroom), currentReplicas, target, tolerance);
  const predictive = held ? currentReplicas : needed;
  const explain = ctx.explain !== false;
  const forecastText = explain && peak && needed !== undefined ? describeForecast(peak, needed, target, ctx) + (held ? ` (within ${formatPercent(tolerance)} of ${currentReplicas}, kept)` : '') : '';

  // Built field by field, not spread: replays decide hundreds of thousands of times per plan.
  const decisionWith = (replicas: number, reactive?: number): MetricDecision => ({
    name: metric.name,
    observed,
    predictive,
    forecastPeak: peak?.value,
    forecastPeakAt: peak?.at,
    missingData: observed === undefined,
    forecastSource: peak?.source,
    forecastWindow: peak?.position,
    ...(reactive !== undefined ? { reactive } : {}),
    replicas,
  });

  if (observed === undefined) {
    const because = forecastText ? `; ${forecastText} ignored` : '';
    return {
      decision: decisionWith(currentReplicas),
      replicas: currentReplicas,
      rule: 'noData',
      missingData: true,
      text: explain ? `${metric.name} no data, holding ${currentReplicas}${because}` : '',
    };
  }

  const reactive = reactiveReplicas(observed, currentReplicas, target, tolerance);
  const inBand = explain && withinTolerance(observed, currentReplicas, target, tolerance);
  const reactiveNote = inBand ? ` (usage ${formatNumber(observed)} within ${formatPercent(tolerance)} of ${currentReplicas} x ${formatNumber(target)})` : '';

  if (predictive === undefined) {
    const text = explain ? `${metric.name} no forecast; reactive ${formatNumber(observed)} / ${formatNumber(target)} per replica => ${reactive}${reactiveNote}` : '';
    return { decision: decisionWith(reactive, reactive), replicas: reactive, rule: 'reactive', missingData: false, text };
  }

  const floorOn = config.scaling.reactiveFloor;
  const replicas = floorOn ? Math.max(predictive, reactive) : predictive;
  const rule = floorOn && reactive > predictive ? 'reactive' : 'predictive';
  const reactiveText = !explain
    ? ''
    : floorOn
      ? `reactive ${reactive}${reactiveNote}${reactive > predictive ? ' (floor applied)' : ''}`
      : `reactive ${reactive} (floor off)`;
  return {
    decision: decisionWith(replicas, reactive),
    replicas,
    rule,
    missingData: false,
    text: explain ? `${metric.name} ${forecastText}; ${reactiveText}` : '',
  };
}

function describeForecast(peak: WindowPeak, predictive: number, target: number, ctx: MetricContext): string {
  const { config } = ctx;
  const series = peak.source === 'quantile' ? quantileLabel(config.forecast.quantile) : `mean (no ${quantileLabel(config.forecast.quantile)})`;
  const where =
    peak.position === 'within'
      ? `within lead time ${formatDuration(ctx.leadTimeMs)}`
      : peak.position === 'beyondEnd'
        ? `last forecast point; lead time ${formatDuration(ctx.leadTimeMs)} reaches beyond the forecast`
        : `first forecast point; lead time ${formatDuration(ctx.leadTimeMs)} falls before the forecast`;
  const headroom = config.scaling.headroom > 0 ? ` +${formatPercent(config.scaling.headroom)}` : '';
  return (
    `forecast ${series} peak ${formatNumber(peak.value)} at ${formatClockUtc(peak.at)} (${where})` +
    ` / ${formatNumber(target)} per replica${headroom} => ${predictive}`
  );
}
