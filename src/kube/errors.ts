// Classifies errors from the Kubernetes API so callers can tell "fix your spec" from "retry later".
import { ApiException } from '@kubernetes/client-node';

export function apiStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.code ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The server's own explanation (Status.message) when there is one, else the error's message. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) return parsed.message;
      } catch {
        if (body) return body;
      }
    } else if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
      return body.message;
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export const isNotFound = (err: unknown): boolean => apiStatusCode(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatusCode(err) === 409;
export const isForbidden = (err: unknown): boolean => apiStatusCode(err) === 403;

/** The scale target cannot be used as configured; the user has to change the spec or the cluster. */
export class TargetError extends Error {
  constructor(
    readonly reason: 'TargetNotFound' | 'NoScaleSubresource' | 'UnknownKind' | 'Forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'TargetError';
  }
}
