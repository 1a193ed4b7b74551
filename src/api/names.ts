// The shapes of names and texts a PredictiveScaler spec may hold, shared by the CRD's admission rules
// (test/integration/crd.test.ts checks the CRD uses these very patterns) and toScalerConfig.

/** Metric and schedule entry names: letters, digits, '-', '_' and '.', starting and ending alphanumeric. */
export const ENTRY_NAME_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
/** A Kubernetes object name (RFC 1123 subdomain): what scaleTargetRef.name and authSecretRef.name may be. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const KIND_PATTERN = '^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$';
/** "v1", "apps/v1", "example.com/v1beta1". */
export const API_VERSION_PATTERN = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/**
 * Control characters (C0 but tab, line feed and carriage return; DEL; C1): never part of a PromQL
 * expression, and a way to forge lines in logs.
 */
export const CONTROL_CHARACTER_CLASS = '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]';
