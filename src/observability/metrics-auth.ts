// Who may read /metrics under --metrics-secure: the bearer token is authenticated with a TokenReview
// and the user authorized with a SubjectAccessReview (non-resource URL /metrics, verb get), as
// controller-runtime's filters.WithAuthenticationAndAuthorization does. Verdicts are cached briefly,
// in a bounded map, and at most a few reviews run at once, so a scrape storm (or a flood of garbage
// tokens) costs the API server a bounded number of requests.
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from './logger.js';
import { ExpiringVerdicts } from './verdict-cache.js';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two reviews, as the API server answers them. */
export interface AccessReviews {
  /** The user the token belongs to, or undefined when the API server does not accept it. */
  authenticate(token: string): Promise<ReviewedUser | undefined>;
  /** Whether the user may `get` the non-resource URL `path`. */
  authorize(user: ReviewedUser, path: string): Promise<boolean>;
}

export function kubeAccessReviews(kc: KubeConfig): AccessReviews {
  const authentication = kc.makeApiClient(AuthenticationV1Api);
  const authorization = kc.makeApiClient(AuthorizationV1Api);
  return {
    async authenticate(token) {
      const review = await authentication.createTokenReview({ body: { spec: { token } } });
      const user = review.status?.user;
      if (review.status?.authenticated !== true || !user?.username) return undefined;
      return { username: user.username, uid: user.uid, groups: user.groups, extra: user.extra };
    },
    async authorize(user, path) {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path, verb: 'get' },
          },
        },
      });
      return review.status?.allowed === true;
    },
  };
}

/** The answer to one request: 200 lets it through, anything else is the response to send. */
export type AccessVerdict = { status: 200; user: string } | { status: 401 | 403 | 429 | 500; message: string };

export interface MetricsAuthOptions {
  reviews: AccessReviews;
  logger: Logger;
  now?: () => number;
  /** The non-resource URL the SubjectAccessReview asks about. Default /metrics. */
  path?: string;
  /** How long an allow is remembered. Default 1 min. */
  allowTtlMs?: number;
  /** How long a 401 or 403 is remembered; short, so a new RoleBinding takes effect soon. Default 10 s. */
  denyTtlMs?: number;
  /** Verdicts kept at most; the oldest goes first. Default 1024. */
  maxEntries?: number;
  /** Tokens reviewed at once; more get 429 until one finishes. Default 16. */
  maxConcurrentReviews?: number;
  /** A review the API server has not answered by then fails the request with 500. Default 10 s. */
  reviewTimeoutMs?: number;
}

// RFC 6750 b64token: anything else cannot be a Kubernetes token and is refused without a review.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN_LENGTH = 8192;

export class MetricsAuthorizer {
  private readonly verdicts: ExpiringVerdicts<AccessVerdict>;
  private readonly inFlight = new Map<string, Promise<AccessVerdict>>();
  private readonly now: () => number;
  private readonly path: string;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;
  private readonly maxConcurrentReviews: number;
  private readonly reviewTimeoutMs: number;

  constructor(private readonly options: MetricsAuthOptions) {
    this.now = options.now ?? Date.now;
    this.path = options.path ?? '/metrics';
    this.allowTtlMs = options.allowTtlMs ?? 60_000;
    this.denyTtlMs = options.denyTtlMs ?? 10_000;
    this.maxConcurrentReviews = options.maxConcurrentReviews ?? 16;
    this.reviewTimeoutMs = options.reviewTimeoutMs ?? 10_000;
    this.verdicts = new ExpiringVerdicts(options.maxEntries ?? 1024, this.now);
  }

  /** The verdict for a request carrying this Authorization header (undefined when it has none). */
  async check(authorization: string | undefined): Promise<AccessVerdict> {
    const token = authorization === undefined || authorization.length > MAX_TOKEN_LENGTH + 16 ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) return { status: 401, message: 'Unauthorized: send a ServiceAccount token as "Authorization: Bearer <token>"' };
    // Tokens are never kept, only their digests.
    const key = createHash('sha256').update(token).digest('base64');
    const cached = this.verdicts.get(key);
    if (cached !== undefined) return cached;
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    if (this.inFlight.size >= this.maxConcurrentReviews) {
      return { status: 429, message: 'Too many requests: access reviews are in progress, retry shortly' };
    }
    const review = this.review(token, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, review);
    return this.withTimeout(review);
  }

  private async review(token: string, key: string): Promise<AccessVerdict> {
    const { reviews, logger } = this.options;
    let user: ReviewedUser | undefined;
    try {
      user = await reviews.authenticate(token);
    } catch (err) {
      logger.warn({ err: describe(err) }, 'metrics: TokenReview failed');
      return { status: 500, message: 'Internal error: the token could not be reviewed' };
    }
    if (user === undefined) return this.remember(key, { status: 401, message: 'Unauthorized: the token was not accepted' });
    let allowed: boolean;
    try {
      allowed = await reviews.authorize(user, this.path);
    } catch (err) {
      logger.warn({ err: describe(err), user: user.username }, 'metrics: SubjectAccessReview failed');
      return { status: 500, message: 'Internal error: access could not be reviewed' };
    }
    if (!allowed) {
      return this.remember(key, { status: 403, message: `Forbidden: user "${user.username}" may not get ${this.path}` });
    }
    return this.remember(key, { status: 200, user: user.username });
  }

  private remember(key: string, verdict: AccessVerdict): AccessVerdict {
    this.verdicts.set(key, verdict, verdict.status === 200 ? this.allowTtlMs : this.denyTtlMs);
    return verdict;
  }

  // The review keeps its concurrency slot until the API server answers; the client is not held that long.
  private withTimeout(review: Promise<AccessVerdict>): Promise<AccessVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<AccessVerdict>((resolve) => {
      timer = setTimeout(() => resolve({ status: 500, message: 'Internal error: the API server did not answer the access review in time' }), this.reviewTimeoutMs);
      timer.unref();
    });
    return Promise.race([review, timedOut]).finally(() => clearTimeout(timer));
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e?.code === 'number' ? `HTTP ${e.code}` : String(e?.message ?? err);
}
