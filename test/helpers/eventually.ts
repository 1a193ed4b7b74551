// Polling for state that a controller reaches in its own time.
import type { PredictiveScaler } from '../../src/api/types.js';

/**
 * Calls `probe` until `ok` accepts its value and returns that value; a probe that throws counts as
 * not yet. Throws after `timeoutMs` with the last value and error.
 */
export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 45_000, pollMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)} ${lastErr ? String(lastErr) : ''}`);
}

export const condition = (s: PredictiveScaler, type: string) => s.status?.conditions?.find((c) => c.type === type);
