// Keeps one trained forecaster per scaler metric and decides when to train it: on first use, on
// spec.forecast.retrainEvery, when the spec's model settings change, and when its live error drifts
// far above its validation error. Training goes to a Trainer; forecast() never waits for it: the
// previous model serves until the new one is ready, and a training that fails or times out leaves
// the previous model in place. While a model drifts, a statistical fallback fitted with it serves.
import type { ModelName } from '../api/types.js';
import type { ScalerConfig } from '../api/config.js';
import { formatDuration } from '../api/units.js';
import { createForecaster, resolveModel } from '../forecast/registry.js';
import { countObserved, hasObserved } from '../forecast/series.js';
import type { Forecast, Forecaster, ForecasterOptions, ForecasterState, Series } from '../forecast/types.js';
import { LiveError } from './drift.js';
import { checkRecord, implausibleForecast } from './restored-model.js';
import type { TrainingRequest, TrainingResult } from './training/train-model.js';
import { disposeForecaster, InlineTrainer, type Trainer } from './training/trainer.js';

export type UnavailableReason = 'InsufficientHistory' | 'ModelFailed' | 'ModelTraining';

export interface ModelOutcome {
  requestedModel: ModelName;
  /** The model whose forecast this is (differs from requestedModel after a fallback). */
  model?: string;
  forecast?: Forecast;
  trainedAt?: number;
  /** Why another model than the requested one is serving. */
  fallbackReason?: string;
  /** What kind of fallback: the model does not exist here, it failed to train, or it drifted. */
  fallbackKind?: 'ModelUnavailable' | 'ModelFailed' | 'ModelDrift' | 'ColdStart';
  /** Why no forecast is available at all (reactive scaling only). */
  unavailable?: { reason: UnavailableReason; message: string };
  /** True when a newly trained model was put in service by this call. */
  trained: boolean;
  /** Out-of-sample MASE measured when the serving model was trained. */
  mase?: number;
  /** Rolling MASE of the forecasts made since the model was trained, once they can be scored. */
  liveMase?: number;
  /** Set while the trained model's live error has drifted. */
  drift?: { since: number; liveMase: number; validationMase: number; message: string };
  /** A training running in the background. */
  training?: { startedAt: number };
  /** What happened since the last call for this key, for Events and logs. */
  events: ModelEvent[];
  details?: Record<string, unknown>;
}

export type ModelEvent =
  | { type: 'Trained'; model: string; seconds: number; mase?: number }
  | { type: 'TrainingFailed'; message: string }
  | { type: 'DriftDetected'; message: string }
  | { type: 'Restored'; model: string; trainedAt: number }
  /** A restored model that could not forecast the current history plausibly; it was discarded and retrains. */
  | { type: 'RestoreDiscarded'; model: string; message: string }
  | { type: 'PersistFailed'; message: string };

/** What is persisted for a trained model, so that a restarted operator does not start cold. */
export interface ModelRecord {
  format: typeof RECORD_FORMAT;
  configKey: string;
  requested: ModelName;
  model: ModelName;
  failures: string[];
  trainedAt: number;
  mase?: number;
  state: ForecasterState;
  driftFallback?: { model: ModelName; state: ForecasterState };
  [field: string]: unknown;
}

const RECORD_FORMAT = 1;

/** Where a metric's trained model is kept between operator runs. */
export interface ModelPersistence {
  /**
   * Undefined when nothing (usable) is stored; throws when the store cannot be reached. What comes
   * back is checked field by field before it serves, so it is typed as what it is: untrusted data.
   */
  load(): Promise<unknown>;
  save(record: ModelRecord): Promise<void>;
  discard(reason: string): Promise<void>;
}

export type RestoreOutcome = { restored: true; model: string; trainedAt: number } | { discarded: string } | { missing: true } | { skipped: true };

interface Serving {
  configKey: string;
  requested: ModelName;
  model: ModelName;
  failures: string[];
  forecaster: Forecaster;
  trainedAt: number;
  mase?: number;
  driftFallback?: { model: ModelName; forecaster: Forecaster };
  live?: LiveError;
  drift?: { since: number; liveMase: number; validationMase: number; message: string };
  /** Restored from the store and not yet seen to forecast the current history plausibly. */
  unverified?: boolean;
}

interface KeyState {
  serving?: Serving;
  pending?: { startedAt: number; configKey: string };
  /** The configKey of the spec of the latest forecast() call: a training for another one is stale. */
  wanted?: string;
  retryAt?: number;
  consecutiveFailures: number;
  lastFailure?: string;
  events: ModelEvent[];
  restoreSettled: boolean;
  /** The pretrained model that forecasts while the requested one lacks history. */
  coldStart?: { forecaster: Forecaster; fittedAt: number };
}

export interface ModelManagerOptions {
  now: () => number;
  /** Where training runs; inline by default. */
  trainer?: Trainer;
  /** Reports each training's duration. */
  onTrained?: (model: string, seconds: number) => void;
  /** Called when a background training finished (either way), so the metric is reconciled again. */
  onTrainingSettled?: (key: string) => void;
  /** Forecaster factory: for the default inline trainer, the model restored from persistence and the history check. */
  create?: (model: ModelName, options: ForecasterOptions) => Forecaster;
  /** Where failures outside any reconcile (a background training's bookkeeping) are reported. */
  logger?: { error(fields: Record<string, unknown>, message: string): void };
}

/**
 * The cold-start model is fitted again (fine-tuned on the history it has by then) this often; in
 * between it follows the history with update(). Fitting costs milliseconds.
 */
const COLD_START_REFIT_MS = 60 * 60_000;

/** After a failed training, the next attempt waits 30 s, doubling per failure up to 15 min. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 15 * 60_000;

export class ModelManager {
  private readonly keys = new Map<string, KeyState>();
  private readonly trainer: Trainer;
  private readonly create: (model: ModelName, options: ForecasterOptions) => Forecaster;

  constructor(private readonly opts: ModelManagerOptions) {
    this.create = opts.create ?? createForecaster;
    this.trainer = opts.trainer ?? new InlineTrainer(this.create);
  }

  /** Training jobs waiting for a worker, and running. */
  trainingLoad(): { queued: number; running: number } {
    return { queued: this.trainer.queued(), running: this.trainer.running() };
  }

  /** Whether restore() still has something to do for this key. */
  needsRestore(key: string): boolean {
    const state = this.keys.get(key);
    return !state || (!state.restoreSettled && !state.serving);
  }

  /**
   * Loads the model persisted for `key` when none is serving yet. Called once per key before its
   * first forecast; a persisted model trained under other settings, or one that no longer loads, is
   * discarded. Throws when the store cannot be reached (the next reconcile tries again).
   */
  async restore(key: string, cfg: ScalerConfig, persistence: ModelPersistence): Promise<RestoreOutcome> {
    const state = this.stateFor(key);
    if (state.serving || state.restoreSettled) return { skipped: true };
    const loaded = await persistence.load();
    if (loaded === undefined) {
      state.restoreSettled = true;
      return { missing: true };
    }
    const settle = async (reason: string): Promise<RestoreOutcome> => {
      state.restoreSettled = true;
      await persistence.discard(reason);
      return { discarded: reason };
    };
    const checked = checkRecord(loaded, {
      format: RECORD_FORMAT,
      configKey: configKey(cfg),
      requested: cfg.forecast.model,
      resolved: resolveModel(cfg.forecast.model).model,
      now: this.opts.now(),
    });
    if ('problem' in checked) return settle(checked.problem);
    const record = checked.record;
    let serving: Serving;
    try {
      const options = modelOptions(cfg);
      const restoreOne = (model: ModelName, s: ForecasterState) => {
        const f = this.create(model, options);
        f.importState(s);
        return f;
      };
      serving = {
        configKey: record.configKey,
        requested: record.requested,
        model: record.model,
        failures: record.failures,
        forecaster: restoreOne(record.model, record.state),
        trainedAt: record.trainedAt,
        ...(record.mase !== undefined ? { mase: record.mase } : {}),
        ...(record.driftFallback
          ? { driftFallback: { model: record.driftFallback.model, forecaster: restoreOne(record.driftFallback.model, record.driftFallback.state) } }
          : {}),
        unverified: true,
      };
    } catch (err) {
      return settle(`the saved model does not load: ${messageOf(err)}`);
    }
    if (state.serving) return { skipped: true }; // a training finished while loading
    state.serving = serving;
    state.restoreSettled = true;
    state.events.push({ type: 'Restored', model: serving.model, trainedAt: serving.trainedAt });
    return { restored: true, model: serving.model, trainedAt: serving.trainedAt };
  }

  forecast(key: string, series: Series, cfg: ScalerConfig, steps: number, quantiles: number[], persistence?: ModelPersistence): ModelOutcome {
    const requested = cfg.forecast.model;
    const resolved = resolveModel(requested);
    const now = this.opts.now();
    const state = this.stateFor(key);
    const wanted = configKey(cfg);
    state.wanted = wanted;

    // Too little history is not a model failure: scale reactively until there is enough, rather
    // than planning on a weaker model fitted to a few minutes of data.
    const need = Math.max(
      this.create(resolved.model, modelOptions(cfg)).minHistoryPoints(series.stepMs),
      2 * Math.ceil(cfg.forecast.horizonMs / series.stepMs),
    );
    if (!hasObserved(series.values, need)) {
      const have = countObserved(series.values);
      this.drop(state);
      const shortOf = `${resolved.model} needs ${need} points of history (${formatDuration(need * series.stepMs)} at step ${formatDuration(series.stepMs)}), have ${have}`;
      return this.coldStart(state, requested, resolved.model, cfg, series, steps, quantiles, now, 'InsufficientHistory', shortOf);
    }

    let trained = false;
    const serving = state.serving;
    if (serving) {
      try {
        serving.forecaster.update(series);
        const implausible = serving.unverified ? restoredModelProblem(serving, series, steps, quantiles) : undefined;
        if (implausible) {
          this.discardRestored(state, serving, implausible, persistence);
        } else {
          serving.unverified = false;
          serving.live ??= new LiveError(series, serving.mase, { horizonSteps: horizonSteps(cfg) });
          serving.live.observe(series);
        }
      } catch {
        this.drop(state); // it cannot follow this series any more: train afresh
      }
    }

    const current = state.serving;
    if (current && current.configKey === wanted && !current.drift) {
      const verdict = current.live!.verdict();
      if (verdict.drifting && current.mase !== undefined) {
        current.drift = { since: now, liveMase: verdict.liveMase!, validationMase: current.mase, message: verdict.message! };
        state.events.push({ type: 'DriftDetected', message: `${current.model}: ${verdict.message}; retraining, and serving ${current.driftFallback?.model ?? current.model} until the retrain succeeds` });
      }
    }

    const due =
      !current || current.configKey !== wanted || current.drift !== undefined || now - current.trainedAt >= cfg.forecast.retrainEveryMs;
    if (due && !state.pending && !(state.retryAt !== undefined && now < state.retryAt)) {
      trained = this.startTraining(key, state, series, cfg, resolved.model, persistence);
    }

    const active = state.serving;
    if (!active) {
      if (state.pending) {
        const training = `${resolved.model} is training in the background (started ${formatDuration(now - state.pending.startedAt)} ago)`;
        return this.coldStart(state, requested, resolved.model, cfg, series, steps, quantiles, now, 'ModelTraining', training);
      }
      return this.unavailable(state, requested, 'ModelFailed', state.lastFailure ?? `${resolved.model} could not be trained`);
    }
    this.dropColdStart(state);
    return this.serve(state, active, requested, resolved, cfg, series, steps, quantiles, trained);
  }

  forget(keyPrefix: string): void {
    for (const [k, state] of this.keys) {
      if (!k.startsWith(keyPrefix)) continue;
      this.drop(state);
      this.dropColdStart(state);
      this.keys.delete(k);
    }
  }

  async close(): Promise<void> {
    await this.trainer.close();
    for (const state of this.keys.values()) {
      this.drop(state);
      this.dropColdStart(state);
    }
    this.keys.clear();
  }

  private serve(
    state: KeyState,
    active: Serving,
    requested: ModelName,
    resolved: ReturnType<typeof resolveModel>,
    cfg: ScalerConfig,
    series: Series,
    steps: number,
    quantiles: number[],
    trained: boolean,
  ): ModelOutcome {
    let forecaster = active.forecaster;
    let model: string = active.model;
    let fallbackReason: string | undefined;
    let fallbackKind: ModelOutcome['fallbackKind'];
    if (active.drift && active.driftFallback) {
      const fb = active.driftFallback;
      try {
        fb.forecaster.update(series);
        forecaster = fb.forecaster;
        model = fb.model;
        fallbackReason = `${active.model} drifted (${active.drift.message}); serving ${fb.model} until the retrain succeeds`;
        fallbackKind = 'ModelDrift';
      } catch {
        // the fallback cannot serve this series either: keep the drifting model
      }
    } else if (active.requested !== requested || active.configKey !== configKey(cfg)) {
      fallbackReason = `${active.model} (trained for the previous spec) serves until the new model finishes training`;
      fallbackKind = 'ModelFailed';
    } else if (active.model !== resolved.model) {
      fallbackReason = `${resolved.model} failed (${active.failures.join('; ')}); using ${active.model}`;
      fallbackKind = 'ModelFailed';
    } else if (resolved.fallbackReason) {
      fallbackReason = resolved.fallbackReason;
      fallbackKind = 'ModelUnavailable';
    }
    const forecast = forecaster.predict(steps, quantiles);
    if (forecaster === active.forecaster) active.live?.record(forecast);
    const verdict = active.live?.verdict();
    return {
      requestedModel: requested,
      model,
      forecast,
      trainedAt: active.trainedAt,
      ...(fallbackReason ? { fallbackReason, fallbackKind } : {}),
      trained,
      ...(active.mase !== undefined ? { mase: active.mase } : {}),
      ...(verdict?.liveMase !== undefined ? { liveMase: verdict.liveMase } : {}),
      ...(active.drift ? { drift: active.drift } : {}),
      ...(state.pending ? { training: { startedAt: state.pending.startedAt } } : {}),
      events: state.events.splice(0),
      details: forecaster.describe(),
    };
  }

  /** Hands a training to the trainer; true when its result was put in service right away (inline). */
  private startTraining(key: string, state: KeyState, series: Series, cfg: ScalerConfig, model: ModelName, persistence?: ModelPersistence): boolean {
    const wanted = configKey(cfg);
    const startedAt = this.opts.now();
    const previous = state.serving;
    const request: TrainingRequest = {
      model,
      options: modelOptions(cfg),
      series,
      quantile: cfg.forecast.quantile,
      ...(previous && previous.model === model && previous.configKey === wanted ? { warmStart: exportOrUndefined(previous.forecaster) } : {}),
    };
    const context = { key, state, series, cfg, requested: cfg.forecast.model, configKey: wanted, persistence };
    let result: TrainingResult | Promise<TrainingResult>;
    try {
      result = this.trainer.train(request);
    } catch (err) {
      this.trainingFailed(state, (err as Error).message);
      return false;
    }
    if (!(result instanceof Promise)) {
      this.install(context, result);
      return true;
    }
    state.pending = { startedAt, configKey: wanted };
    // Forgotten, or the spec changed while it trained: its result (or failure) no longer matters.
    const stale = () => this.keys.get(key) !== state || state.wanted !== wanted;
    result
      .then(
        (r) => {
          if (stale()) disposeResult(r);
          else this.install(context, r);
        },
        (err: unknown) => {
          if (!stale()) this.trainingFailed(state, messageOf(err));
        },
      )
      .catch((err: unknown) => {
        // install() or trainingFailed() threw: the key keeps its previous model, and a retry is due.
        this.opts.logger?.error({ key, err: messageOf(err) }, 'a finished training could not be put in service');
      })
      .finally(() => {
        if (this.keys.get(key) === state) {
          state.pending = undefined;
          this.opts.onTrainingSettled?.(key);
        }
      })
      .catch((err: unknown) => this.opts.logger?.error({ key, err: messageOf(err) }, 'reconciling after a training failed'));
    return false;
  }

  private install(
    context: { key: string; state: KeyState; series: Series; cfg: ScalerConfig; requested: ModelName; configKey: string; persistence?: ModelPersistence },
    result: TrainingResult,
  ): void {
    const { state, series, cfg } = context;
    const trainedAt = this.opts.now();
    this.opts.onTrained?.(result.model, result.seconds);
    const old = state.serving;
    state.serving = {
      configKey: context.configKey,
      requested: context.requested,
      model: result.model,
      failures: result.failures,
      forecaster: result.forecaster,
      trainedAt,
      ...(result.mase !== undefined ? { mase: result.mase } : {}),
      ...(result.driftFallback ? { driftFallback: result.driftFallback } : {}),
      live: new LiveError(series, result.mase, { horizonSteps: horizonSteps(cfg) }),
    };
    if (old) disposeServing(old);
    state.consecutiveFailures = 0;
    state.retryAt = undefined;
    state.lastFailure = undefined;
    state.restoreSettled = true;
    state.events.push({ type: 'Trained', model: result.model, seconds: result.seconds, ...(result.mase !== undefined ? { mase: result.mase } : {}) });
    if (context.persistence) this.persist(state, state.serving, context.persistence);
  }

  private persist(state: KeyState, serving: Serving, persistence: ModelPersistence): void {
    let record: ModelRecord;
    try {
      record = {
        format: RECORD_FORMAT,
        configKey: serving.configKey,
        requested: serving.requested,
        model: serving.model,
        failures: serving.failures,
        trainedAt: serving.trainedAt,
        ...(serving.mase !== undefined ? { mase: serving.mase } : {}),
        state: serving.forecaster.exportState(),
        ...(serving.driftFallback ? { driftFallback: { model: serving.driftFallback.model, state: serving.driftFallback.forecaster.exportState() } } : {}),
      };
    } catch (err) {
      state.events.push({ type: 'PersistFailed', message: `the trained model could not be exported: ${(err as Error).message}` });
      return;
    }
    persistence.save(record).catch((err: unknown) => state.events.push({ type: 'PersistFailed', message: messageOf(err) }));
  }

  /** Takes a restored model out of service for good: removed from the store, so the key trains afresh. */
  private discardRestored(state: KeyState, serving: Serving, problem: string, persistence: ModelPersistence | undefined): void {
    const reason = `the restored ${serving.model} model does not fit the current history: ${problem}`;
    this.drop(state);
    state.events.push({ type: 'RestoreDiscarded', model: serving.model, message: `${reason}; training afresh` });
    persistence?.discard(reason).catch((err: unknown) => state.events.push({ type: 'PersistFailed', message: `could not remove the discarded model: ${messageOf(err)}` }));
  }

  private trainingFailed(state: KeyState, message: string): void {
    state.consecutiveFailures++;
    const wait = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (state.consecutiveFailures - 1));
    state.retryAt = this.opts.now() + wait;
    state.lastFailure = `training failed: ${message}`;
    state.events.push({ type: 'TrainingFailed', message: `${message}; ${state.serving ? `${state.serving.model} trained ${new Date(state.serving.trainedAt).toISOString()} keeps serving; ` : ''}next attempt in ${formatDuration(wait)}` });
  }

  private unavailable(state: KeyState, requested: ModelName, reason: UnavailableReason, message: string): ModelOutcome {
    return {
      requestedModel: requested,
      trained: false,
      unavailable: { reason, message },
      ...(state.pending ? { training: { startedAt: state.pending.startedAt } } : {}),
      events: state.events.splice(0),
    };
  }

  private stateFor(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { consecutiveFailures: 0, events: [], restoreSettled: false };
      this.keys.set(key, state);
    }
    return state;
  }

  private drop(state: KeyState): void {
    if (state.serving) disposeServing(state.serving);
    state.serving = undefined;
  }

  /**
   * While the requested model cannot serve yet (too little history, or its first training still
   * running), the pretrained global model forecasts, unless spec.forecast.coldStart is None or it
   * cannot forecast this history either; then the metric scales reactively.
   */
  private coldStart(
    state: KeyState,
    requested: ModelName,
    model: ModelName,
    cfg: ScalerConfig,
    series: Series,
    steps: number,
    quantiles: number[],
    now: number,
    reason: 'InsufficientHistory' | 'ModelTraining',
    why: string,
  ): ModelOutcome {
    const cold = model === 'Pretrained' || cfg.forecast.coldStart === 'None' ? undefined : this.coldStartForecast(state, series, steps, quantiles, now);
    if (!cold) {
      this.dropColdStart(state);
      return this.unavailable(state, requested, reason, reason === 'ModelTraining' ? `${why}; scaling reactively until it is ready` : why);
    }
    return {
      requestedModel: requested,
      model: cold.forecaster.name,
      forecast: cold.forecast,
      fallbackReason: `${why}; forecasting with the pretrained global model until it is ready`,
      fallbackKind: 'ColdStart',
      trained: false,
      ...(state.pending ? { training: { startedAt: state.pending.startedAt } } : {}),
      events: state.events.splice(0),
      details: cold.forecaster.describe(),
    };
  }

  /**
   * The pretrained model's forecast of `series`, or undefined when it cannot forecast it either (it
   * needs an hour of points, most of them observed). Fitted inline: it costs milliseconds.
   */
  private coldStartForecast(state: KeyState, series: Series, steps: number, quantiles: number[], now: number): { forecaster: Forecaster; forecast: Forecast } | undefined {
    try {
      let cold = state.coldStart;
      if (!cold) {
        const forecaster = this.create('Pretrained', {});
        if (!hasObserved(series.values, forecaster.minHistoryPoints(series.stepMs))) return undefined;
        forecaster.fit(series);
        cold = state.coldStart = { forecaster, fittedAt: now };
      } else if (now - cold.fittedAt >= COLD_START_REFIT_MS) {
        cold.forecaster.fit(series);
        cold.fittedAt = now;
      } else {
        cold.forecaster.update(series);
      }
      return { forecaster: cold.forecaster, forecast: cold.forecaster.predict(steps, quantiles) };
    } catch {
      this.dropColdStart(state); // too few observed points yet, or a history it cannot follow: try afresh next time
      return undefined;
    }
  }

  private dropColdStart(state: KeyState): void {
    if (state.coldStart) disposeForecaster(state.coldStart.forecaster);
    state.coldStart = undefined;
  }
}

/** Why a restored model (or its drift fallback) must not serve `series`, or undefined when both may. */
function restoredModelProblem(serving: Serving, series: Series, steps: number, quantiles: number[]): string | undefined {
  const check = (label: string, forecaster: Forecaster): string | undefined => {
    try {
      const problem = implausibleForecast(forecaster.predict(steps, quantiles), series, steps);
      return problem && `${label}: ${problem}`;
    } catch (err) {
      return `${label} cannot forecast it: ${messageOf(err)}`;
    }
  };
  const own = check(serving.model, serving.forecaster);
  if (own || !serving.driftFallback) return own;
  const fallback = serving.driftFallback;
  try {
    fallback.forecaster.update(series);
  } catch (err) {
    return `its drift fallback ${fallback.model} cannot follow it: ${messageOf(err)}`;
  }
  return check(`its drift fallback ${fallback.model}`, fallback.forecaster);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function disposeServing(s: Serving): void {
  disposeForecaster(s.forecaster);
  disposeForecaster(s.driftFallback?.forecaster);
}

function disposeResult(r: TrainingResult): void {
  disposeForecaster(r.forecaster);
  disposeForecaster(r.driftFallback?.forecaster);
}

function exportOrUndefined(forecaster: Forecaster): ForecasterState | undefined {
  try {
    return forecaster.exportState();
  } catch {
    return undefined;
  }
}

function horizonSteps(cfg: ScalerConfig): number {
  return Math.max(1, Math.ceil(cfg.forecast.horizonMs / cfg.forecast.stepMs));
}

function modelOptions(cfg: ScalerConfig): ForecasterOptions & { horizonSteps: number } {
  return { seasonality: cfg.forecast.seasonality, horizonSteps: horizonSteps(cfg) };
}

/** The spec settings a trained model depends on: a change means it must be trained again. */
function configKey(cfg: ScalerConfig): string {
  const f = cfg.forecast;
  return JSON.stringify({ model: f.model, seasonality: f.seasonality, stepMs: f.stepMs, horizonMs: f.horizonMs });
}

