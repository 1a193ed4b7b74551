// The names under which a PredictiveScaler's decision is published, shared by the servers that
// publish it and by the check that recognises an HPA consuming it.

/** The external metric a plain HPA reads, with the selector `scaler: <PredictiveScaler name>`. */
export const DESIRED_REPLICAS_METRIC = 'prescale_desired_replicas';
/** The selector label naming the PredictiveScaler, in the HPA's namespace. */
export const SCALER_LABEL = 'scaler';
/** The KEDA trigger metadata key naming the PredictiveScaler, in the ScaledObject's namespace. */
export const SCALER_METADATA_KEY = 'scaler';
/** The prefix of the one metric the KEDA external scaler names; the rest is the PredictiveScaler's name. */
export const METRIC_NAME_PREFIX = 'prescale-';

/**
 * The metric GetMetricSpec names for a PredictiveScaler: `prescale-<name>`. A DNS-1123 subdomain
 * behind a lowercase prefix is a valid external metric name (no "/", "%", never "." or "..").
 */
export function kedaMetricName(scaler: string): string {
  return `${METRIC_NAME_PREFIX}${scaler}`;
}

// KEDA's HPA names the metric of trigger i `s<i>-<name the scaler gave>`.
const KEDA_HPA_METRIC = new RegExp(`^s\\d+-${METRIC_NAME_PREFIX}(.+)$`);

/** The PredictiveScaler whose KEDA metric an HPA made by KEDA reads, if it is one. */
export function scalerOfKedaHpaMetric(metricName: string): string | undefined {
  return KEDA_HPA_METRIC.exec(metricName)?.[1];
}
