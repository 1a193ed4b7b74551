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
    const historySteps = Math.floor(this.config.forecast.historyMs / this.demand.stepMs);
    const first = Math.max(0, last - historySteps + 1);
    const series: Series = {
      start: this.demand.start + first * this.demand.stepMs,
      stepMs: this.demand.stepMs,
      values: this.demand.values.slice(first, last + 1),
    };
    const outcome = this.models.forecast('sim', series, this.config, forecastSteps(series, this.config, now, this.leadTimeMs), this.quantiles);
    return { observed, forecast: outcome.forecast, outcome };
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
    const { observed, forecast } = this.forecasts.at(view.now);
    const metric = this.config.metrics[0]!;
    const decision = decide({
      now: view.now,
      config: this.config,
      currentReplicas: view.specReplicas,
      leadTimeMs: this.leadTimeMs,
      metrics: [{ name: metric.name, observed, forecast }],
      recommendations: this.history.recommendations,
      scaleEvents: this.history.scaleEvents,
    });
    this.history.record(this.config, view.now, decision.recommendation, { from: view.specReplicas, to: decision.desiredReplicas });
    return decision.desiredReplicas;
  }
}
