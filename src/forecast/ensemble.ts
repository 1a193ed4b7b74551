// Ensemble forecaster: its members are scored out of sample on the latest history (rolling origin),
// members much worse than the best are dropped, the rest are weighted by inverse error, and the
// forecast (mean and every quantile) is the weighted average of theirs. Weights are recomputed at
// each fit, i.e. at each retrain.
import { backtest } from './backtest.js';
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import type { Forecast, Forecaster, Series } from './types.js';

export interface EnsembleMember {
  name: string;
  make: () => Forecaster;
}

export interface EnsembleOptions {
  members: EnsembleMember[];
  /** Validation origins over the end of the history. */
  validationFolds?: number;
  /** Steps ahead each validation fold scores (the forecast horizon). */
  horizonSteps?: number;
  /** A member whose validation MASE exceeds this multiple of the best member's is dropped. */
  dropRatio?: number;
}

export interface MemberScore {
  name: string;
  /** Out-of-sample MASE on the validation folds; undefined when it could not be scored. */
  mase?: number;
  weight: number;
  /** Why a member has no weight. */
  dropped?: string;
}

interface Fitted {
  members: { name: string; forecaster: Forecaster; weight: number }[];
  scores: MemberScore[];
}

export class EnsembleForecaster implements Forecaster {
  readonly name = 'Ensemble';
  private readonly folds: number;
  private readonly horizonSteps: number;
  private readonly dropRatio: number;
  private fitted: Fitted | undefined;

  constructor(private readonly options: EnsembleOptions) {
    if (options.members.length === 0) throw new Error('an ensemble needs at least one member');
    this.folds = options.validationFolds ?? 4;
    this.horizonSteps = options.horizonSteps ?? 30;
    this.dropRatio = options.dropRatio ?? 1.5;
  }

  /** The least any member needs, plus the validation span scored on top of it. */
  minHistoryPoints(stepMs: number): number {
    const least = Math.min(...this.options.members.map((m) => m.make().minHistoryPoints(stepMs)));
    return least + this.folds * this.horizonSteps;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const n = series.values.length;
    const scores = this.validate(series, n);
    const finite = scores.filter((s) => s.mase !== undefined);
    const best = Math.min(...finite.map((s) => s.mase!));
    const members: Fitted['members'] = [];
    for (const m of this.options.members) {
      const score = scores.find((s) => s.name === m.name)!;
      if (finite.length > 0 && score.mase === undefined) {
        score.dropped ??= 'could not be scored on the validation folds';
        continue;
      }
      if (score.mase !== undefined && best > 0 && score.mase > this.dropRatio * best) {
        score.dropped = `validation MASE ${score.mase.toFixed(3)} is over ${this.dropRatio}x the best member's ${best.toFixed(3)}`;
        continue;
      }
      const forecaster = m.make();
      try {
        forecaster.fit(series);
      } catch (err) {
        score.dropped = `fit failed: ${(err as Error).message}`;
        continue;
      }
      // Inverse-error weights; a perfect member (MASE 0) is capped so it does not take everything.
      members.push({ name: m.name, forecaster, weight: score.mase === undefined ? 1 : 1 / Math.max(score.mase, 1e-3) });
    }
    if (members.length === 0) throw new Error(`no ensemble member could be used: ${scores.map((s) => `${s.name}: ${s.dropped}`).join('; ')}`);
    const total = members.reduce((sum, m) => sum + m.weight, 0);
    for (const m of members) m.weight /= total;
    for (const s of scores) s.weight = members.find((m) => m.name === s.name)?.weight ?? 0;
    this.fitted = { members, scores };
  }

  update(series: Series): void {
    if (!this.fitted) {
      this.fit(series);
      return;
    }
    for (const m of this.fitted.members) {
      if (m.forecaster.update) m.forecaster.update(series);
      else m.forecaster.fit(series);
    }
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const forecasts = fitted.members.map((m) => ({ weight: m.weight, forecast: m.forecaster.predict(steps, quantiles) }));
    const first = forecasts[0]!.forecast;
    const blend = (pick: (f: Forecast) => number[]) =>
      Array.from({ length: steps }, (_, h) => forecasts.reduce((sum, { weight, forecast }) => sum + weight * pick(forecast)[h]!, 0));
    return {
      model: this.name,
      start: first.start,
      stepMs: first.stepMs,
      mean: blend((f) => f.mean),
      // A weighted average of monotone quantile curves is monotone: the bands stay ordered.
      quantiles: quantiles.map((q, i) => ({ q, values: blend((f) => f.quantiles[i]!.values) })),
    };
  }

  describe(): Record<string, unknown> {
    if (!this.fitted) return { model: this.name, fitted: false };
    const weighted = this.fitted.scores.filter((s) => s.weight > 0 && s.mase !== undefined);
    return {
      model: this.name,
      fitted: true,
      members: this.fitted.scores,
      // The ensemble's own expected error: the weighted MASE of its members.
      mase: weighted.length > 0 ? weighted.reduce((sum, s) => sum + s.weight * s.mase!, 0) : undefined,
    };
  }

  /** Rolling-origin MASE of every member over the last folds x horizon steps. */
  private validate(series: Series, n: number): MemberScore[] {
    const warmupSteps = n - this.folds * this.horizonSteps;
    const factories = Object.fromEntries(this.options.members.map((m) => [m.name, m.make]));
    const result = backtest(series, factories, {
      horizonSteps: this.horizonSteps,
      warmupSteps,
      folds: this.folds,
      quantile: 0.5,
    });
    return result.models.map((m) => ({
      name: m.name,
      weight: 0,
      ...(Number.isFinite(m.mase) && m.folds > 0 ? { mase: m.mase } : { dropped: m.lastError ? `validation failed: ${m.lastError}` : undefined }),
    }));
  }
}
