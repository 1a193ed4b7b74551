// What a KEDA external-scaler request asks for, checked: which PredictiveScaler, in which namespace.
// Everything here treats the decoded request as untrusted input (anything that can reach the port
// can send one): no value is trusted to have a type, a size or a harmless key.
import { status } from '@grpc/grpc-js';
import type { PublishedLookup } from './source.js';

import { SCALER_METADATA_KEY } from './names.js';
export { kedaMetricName, METRIC_NAME_PREFIX, SCALER_METADATA_KEY } from './names.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ScalerRef {
  namespace: string;
  scaler: string;
}

export interface RequestError {
  code: status;
  details: string;
}

export type Resolved = { ok: true; ref: ScalerRef } | { ok: false; error: RequestError };

const invalid = (details: string): Resolved => ({ ok: false, error: { code: status.INVALID_ARGUMENT, details } });

/** A value quoted for an error message: JSON, at most about 80 characters. */
function quote(value: string): string {
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return JSON.stringify(shown);
}

/**
 * The PredictiveScaler a ScaledObjectRef asks about. The namespace is the ScaledObject's own
 * (ScaledObjectRef.namespace, which KEDA fills in): no metadata key can point elsewhere.
 */
export function resolveScaledObjectRef(ref: unknown, maxMetadataEntries: number): Resolved {
  if (ref === null || typeof ref !== 'object') {
    return invalid('the request has no scaledObjectRef: KEDA sends the ScaledObject it asks about');
  }
  const { namespace, scalerMetadata } = ref as { namespace?: unknown; scalerMetadata?: unknown };
  if (typeof namespace !== 'string' || namespace === '') {
    return invalid('scaledObjectRef.namespace is empty: KEDA sends the ScaledObject\'s namespace; the PredictiveScaler is looked up there');
  }
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
    return invalid(`scaledObjectRef.namespace ${quote(namespace)} is not a namespace name (a DNS-1123 label)`);
  }
  const metadata = scalerMetadata !== null && typeof scalerMetadata === 'object' ? (scalerMetadata as Record<string, unknown>) : {};
  const entries = Object.keys(metadata).length;
  if (entries > maxMetadataEntries) {
    return invalid(`the trigger metadata has ${entries} entries; at most ${maxMetadataEntries} are accepted`);
  }
  const where = `a PredictiveScaler (mode: Publish) in the ScaledObject's namespace ${namespace}`;
  const scaler = Object.prototype.hasOwnProperty.call(metadata, SCALER_METADATA_KEY) ? metadata[SCALER_METADATA_KEY] : undefined;
  if (typeof scaler !== 'string' || scaler === '') {
    return invalid(`the trigger metadata has no "${SCALER_METADATA_KEY}": write metadata.${SCALER_METADATA_KEY}: <name of ${where}>`);
  }
  if (scaler.length > 253 || !DNS1123_SUBDOMAIN.test(scaler)) {
    return invalid(
      `trigger metadata "${SCALER_METADATA_KEY}" ${quote(scaler)} is not a PredictiveScaler name: write the name of ${where} ` +
        '(a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and ".")',
    );
  }
  return { ok: true, ref: { namespace, scaler } };
}

/** The gRPC status of a lookup that found nothing to serve; its message is the source's. */
export function lookupFailureStatus(failure: Extract<PublishedLookup, { ok: false }>): RequestError {
  const code = { NotFound: status.NOT_FOUND, NotPublished: status.FAILED_PRECONDITION, NotReady: status.UNAVAILABLE }[failure.code];
  // A source answering a code outside its contract is a bug, served as one.
  return code === undefined ? { code: status.INTERNAL, details: INTERNAL_DETAILS } : { code, details: failure.message };
}

/** What a caller learns of an unexpected failure; the details go to the log only. */
export const INTERNAL_DETAILS = 'internal error in prescale\'s KEDA scaler (logged by the operator)';

/** The name of a gRPC status code ("OK", "NOT_FOUND", ...), for logs and metrics labels. */
export function statusName(code: status): string {
  return status[code] ?? String(code);
}
