// prescale as a simulated policy: the same ModelManager and decide() that `prescale run` uses, fed
// with the demand a policy could have observed (metric-lag old), deciding every spec.interval.
import type { ScalerConfig } from '../api/config.js';
import { requestedQuantiles, forecastSteps } from '../controller/forecast-report.js';
import { ModelManager, type ModelOutcome } from '../controller/models.js';
import { decide } from '../decision/decide.js';
import { DecisionHistory } from '../decision/history.js';
import type { Forecast, Series } from '../forecast/types.js';
import { observedAt } from './engine.js';
import type { ClusterView, ReplicaController, TimeSeriesData } from './types.js';

export interface ForecastAtTime {
  observed: number | undefined;
  forecast?: Forecast;
  outcome?: ModelOutcome;
}

/**
 * One forecast per decision instant, shared by every prescale run of the quantile sweep: the data and
 * the model do not depend on the planning quantile, so neither does the forecast.
 */
export class SharedForecasts {
  private readonly models: ModelManager;
  private readonly quantiles: number[];
  private cached: { now: number; value: ForecastAtTime } | undefined;
  private clock = 0;
  /** Every forecast made, for the report (forecast vs actual). */
  readonly onForecast: ((now: number, f: ForecastAtTime) => void)[] = [];

  constructor(
    private readonly demand: TimeSeriesData,
    private readonly config: ScalerConfig,
    private readonly metricLagMs: number,
    private readonly leadTimeMs: number,
    sweepQuantiles: number[],
  ) {
    if (config.forecast.stepMs !== demand.stepMs) throw new Error('the model step must equal the demand grid step');
    this.models = new ModelManager({ now: () => this.clock });
    this.quantiles = [...new Set([...requestedQuantiles(config), ...sweepQuantiles])].sort((a, b) => a - b);
  }

  at(now: number): ForecastAtTime {
    if (this.cached?.now === now) return this.cached.value;
    this.clock = now;
    const value = this.compute(now);
    this.cached = { now, value };
    for (const cb of this.onForecast) cb(now, value);
    return value;
  }

  private compute(now: number): ForecastAtTime {
    const observed = observedAt(this.demand, now, this.metricLagMs);
    const last = Math.floor((now - this.metricLagMs - this.demand.start) / this.demand.stepMs);
    if (observed === undefined || last < 0) return { observed };
    // Decisions come more often than data points: until a new point arrives the model would see the
    // same series and forecast the same, so the previous forecast is reused while it reaches far
    // enough ahead. (The operator recomputes it; the result is the same, the cost is not.)
    const reuse = this.byLastPoint;
    if (reuse && reuse.last === last && reuse.value.forecast) {
      const lastPoint = { start: this.demand.start + last * this.demand.stepMs, stepMs: this.demand.stepMs, values: [observed] };
      if (reuse.value.forecast.mean.length >= forecastSteps(lastPoint, this.config, now, this.leadTimeMs)) return { ...reuse.value, observed };
    }
    const value = this.forecastFrom(now, last, observed);
    this.byLastPoint = { last, value };
    return value;
  }

  private byLastPoint: { last: number; value: ForecastAtTime } | undefined;

  private forecastFrom(now: number, last: number, observed: number): ForecastAtTime {
    const historySteps = Math.floor(this.config.forecast.historyMs / this.demand.stepMs);
    const first = Math.max(0, last - historySteps + 1);
    const series: Series = {
      start: this.demand.start + first * this.demand.stepMs,
      stepMs: this.demand.stepMs,
      values: this.demand.values.slice(first, last + 1),
    };
    const outcome = this.models.forecast('sim', series, this.config, forecastSteps(series, this.config, now, this.leadTimeMs), this.quantiles);
    this.tally(outcome);
    return { observed, forecast: outcome.forecast, outcome };
  }

  /** What the model manager did over the run: trainings, drift, and which model served how often. */
  readonly stats = { trainings: 0, trainingSeconds: 0, drifts: 0, forecasts: 0, servedBy: new Map<string, number>() };

  private tally(outcome: ModelOutcome): void {
    for (const e of outcome.events) {
      if (e.type === 'Trained') {
        this.stats.trainings++;
        this.stats.trainingSeconds += e.seconds;
      }
      if (e.type === 'DriftDetected') this.stats.drifts++;
    }
    const served = outcome.model ?? 'none (reactive)';
    this.stats.forecasts++;
    this.stats.servedBy.set(served, (this.stats.servedBy.get(served) ?? 0) + 1);
  }
}

export class PrescaleController implements ReplicaController {
  readonly name: string;
  readonly periodMs: number;
  private readonly history = new DecisionHistory();

  constructor(
    private readonly config: ScalerConfig,
    private readonly forecasts: SharedForecasts,
    private readonly leadTimeMs: number,
  ) {
    this.name = `prescale@q${config.forecast.quantile}`;
    this.periodMs = config.intervalMs;
  }

  sync(view: ClusterView): number {
    return decideAt(view, this.config, this.forecasts, this.leadTimeMs, this.history);
  }
}

/** One simulated decision: the operator's decide() on the shared forecast for this instant, recorded in `history`. */
export function decideAt(view: ClusterView, config: ScalerConfig, forecasts: SharedForecasts, leadTimeMs: number, history: DecisionHistory): number {
  const { observed, forecast } = forecasts.at(view.now);
  const metric = config.metrics[0]!;
  const decision = decide({
    now: view.now,
    config,
    currentReplicas: view.specReplicas,
    leadTimeMs,
    metrics: [{ name: metric.name, observed, forecast }],
    recommendations: history.recommendations,
    scaleEvents: history.scaleEvents,
    explain: false,
  });
  history.record(config, view.now, decision.recommendation, { from: view.specReplicas, to: decision.desiredReplicas });
  return decision.desiredReplicas;
}
