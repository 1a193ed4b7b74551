// The one interface every forecasting model implements (statsforecast/darts style:
// fit on a series, then predict a horizon with quantiles).

/** A regular time series: values[i] was observed at start + i * stepMs. Gaps are NaN. */
export interface Series {
  start: number;
  stepMs: number;
  values: number[];
}

export interface QuantileForecast {
  /** Probability level in (0, 1), e.g. 0.9. */
  q: number;
  values: number[];
}

export interface Forecast {
  model: string;
  /** Timestamp (ms) of the first forecast point: the last fitted point + stepMs. */
  start: number;
  stepMs: number;
  mean: number[];
  quantiles: QuantileForecast[];
}

export type Seasonality = 'Auto' | 'None' | number[]; // explicit periods in ms

export interface ForecasterOptions {
  seasonality?: Seasonality;
  /** How many steps ahead forecasts will be asked for; models that validate themselves score this far. */
  horizonSteps?: number;
}

export interface Forecaster {
  readonly name: string;
  /** The fewest non-missing points fit() accepts for a series with this step. */
  minHistoryPoints(stepMs: number): number;
  /** Fits the model. Throws InsufficientHistoryError when the series is too short. */
  fit(series: Series): void;
  /** Forecasts `steps` points after the fitted series, with the requested quantile levels. */
  predict(steps: number, quantiles: number[]): Forecast;
  /**
   * Brings a fitted model up to date with a newer series (the same history plus new points) while
   * keeping the parameters found by the last fit(): cheap, so it can run on every reconcile between
   * retrains. Models without learned parameters may simply re-fit.
   */
  update(series: Series): void;
  /** What was learned, for status and logs (season found, fitted parameters, in-sample error). */
  describe(): Record<string, unknown>;
  /**
   * The fitted model's learned state without its history, as plain JSON-safe data: what moves a
   * trained model from a training worker to the operator and from one operator run to the next.
   * Throws NotFittedError before fit().
   */
  exportState(): ForecasterState;
  /**
   * Loads a state exported by a forecaster of the same model and options. Throws
   * IncompatibleStateError (and keeps whatever it had) when the state is from another model or
   * format, or malformed. Call update(series) with the current history before predict().
   */
  importState(state: ForecasterState): void;
}

/** A fitted model's state: JSON-safe, tagged with the model and the version of its layout. */
export interface ForecasterState {
  model: string;
  /** Layout version of this model's state; bumped whenever the layout changes. */
  format: number;
  [field: string]: unknown;
}

export class IncompatibleStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleStateError';
  }
}

export class InsufficientHistoryError extends Error {
  constructor(
    readonly have: number,
    readonly need: number,
    message?: string,
  ) {
    super(message ?? `need at least ${need} points of history, have ${have}`);
    this.name = 'InsufficientHistoryError';
  }
}
