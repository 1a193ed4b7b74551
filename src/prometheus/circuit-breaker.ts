// A circuit breaker per Prometheus URL: after a call was held until its deadline (a server that does
// not answer, or trickles), further calls fail at once until a cool-down has passed; then one probe
// call is let through, and its outcome closes the circuit or opens it for twice as long. A dead or
// tarpitting server therefore holds at most one reconcile at a time, instead of every scaler that
// names it, and other tenants' scalers keep their workers. Fast failures (refused, 5xx) do not open
// it: they cost a worker little, and the next interval should find a restarted server at once.

export interface CircuitBreakerOptions {
  now: () => number;
  /** First cool-down after a failure. Default 30 s. */
  baseOpenMs?: number;
  /** Longest cool-down. Default 2 min. */
  maxOpenMs?: number;
}

export type Admission = { admitted: true } | { admitted: false; retryInMs: number; lastFailure: string };

export class CircuitBreaker {
  private readonly now: () => number;
  private readonly baseOpenMs: number;
  private readonly maxOpenMs: number;
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  private lastFailure = '';

  constructor(options: CircuitBreakerOptions) {
    this.now = options.now;
    this.baseOpenMs = options.baseOpenMs ?? 30_000;
    this.maxOpenMs = options.maxOpenMs ?? 120_000;
  }

  /** Whether a call may go out now. An admitted call must end in success() or failure(). */
  admit(): Admission {
    if (this.failures === 0) return { admitted: true };
    const wait = this.openUntil - this.now();
    if (wait > 0 || this.probing) {
      return { admitted: false, retryInMs: Math.max(0, wait), lastFailure: this.lastFailure };
    }
    this.probing = true;
    return { admitted: true };
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.openUntil = 0;
  }

  failure(reason: string): void {
    this.failures++;
    this.probing = false;
    this.lastFailure = reason;
    const exponent = Math.min(this.failures - 1, 20);
    this.openUntil = this.now() + Math.min(this.maxOpenMs, this.baseOpenMs * 2 ** exponent);
  }
}
