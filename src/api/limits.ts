// The largest (and smallest) PredictiveScaler the operator serves, so that no spec can make a
// reconcile's cost unbounded. Each cap is enforced twice: by the CRD's admission rules (the numbers
// in crds/predictivescalers.autoscaling.prescale.dev.yaml, which test/integration/crd.test.ts checks
// at each boundary against a real API server) and by toScalerConfig (src/api/config.ts), for objects
// stored before those rules existed.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Samples one metric's history may hold: spec.forecast.history / spec.forecast.step. 7d at 1m is 10,080. */
export const MAX_HISTORY_POINTS = 100_000;
/** Points one forecast may have: spec.forecast.horizon / spec.forecast.step. */
export const MAX_HORIZON_POINTS = 10_000;
/** Prometheus' own resolution: a finer step is not served. */
export const MIN_STEP_MS = SECOND_MS;
/** Longest history, whatever the step: beyond this, time arithmetic leaves what dates can represent. */
export const MAX_HISTORY_MS = 3650 * DAY_MS;

export const MIN_INTERVAL_MS = 5 * SECOND_MS;
/** Also keeps every requeue delay far below setTimeout's 2^31-1 ms limit. */
export const MAX_INTERVAL_MS = HOUR_MS;
export const MIN_RETRAIN_EVERY_MS = 5 * MINUTE_MS;
export const MAX_RETRAIN_EVERY_MS = 7 * DAY_MS;
export const MAX_LEAD_TIME_MS = HOUR_MS;
/** The HorizontalPodAutoscaler's own maximum stabilization window. */
export const MAX_STABILIZATION_WINDOW_MS = HOUR_MS;
export const MAX_SEASONALITY_PERIODS = 4;

/** 1m, the smallest quantity suffix: the demand one replica carries cannot be finer. */
export const MIN_TARGET_PER_REPLICA = 0.001;
export const MAX_TARGET_PER_REPLICA = 1e15;
export const MAX_SCHEDULE_MULTIPLIER = 1000;
/** As a percentage: 1000% is eleven times the forecast replica count. */
export const MAX_HEADROOM_PERCENT = 1000;
/** An objective of more than half the minutes under-provisioned is not a service level. */
export const MAX_UNDER_PROVISIONED_PERCENT = 50;
/** The HPA's tolerance is 10%; beyond half the count the band would hide real changes. */
export const MAX_TOLERANCE_PERCENT = 50;
/** The scale subresource's replica count is an int32. */
export const MAX_REPLICAS = 2_147_483_647;

export const MAX_METRICS = 10;
export const MAX_SCHEDULE_ENTRIES = 50;
export const MAX_QUERY_LENGTH = 4096;
/** Metric and schedule entry names: they appear in status, Events and metric labels. */
export const MAX_ENTRY_NAME_LENGTH = 63;
/** A Kubernetes object name (DNS subdomain). */
export const MAX_OBJECT_NAME_LENGTH = 253;
export const MAX_URL_LENGTH = 2048;
/** Duration, quantity and percentage texts. */
export const MAX_UNIT_TEXT_LENGTH = 32;
