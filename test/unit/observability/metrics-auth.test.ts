import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { MetricsAuthorizer, type AccessReviews, type ReviewedUser } from '../../../src/observability/metrics-auth.js';

const logger = createLogger({ level: 'silent' });

/** Reviews answered from tables, counting calls; pending ones can be held open. */
function scriptedReviews(users: Record<string, string>, allowed: Set<string>) {
  const calls = { authenticate: 0, authorize: 0 };
  let hold: Promise<void> | undefined;
  let failNext: Error | undefined;
  const reviews: AccessReviews = {
    async authenticate(token) {
      calls.authenticate++;
      if (hold) await hold;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      const username = users[token];
      return username === undefined ? undefined : { username, groups: ['system:serviceaccounts'] };
    },
    async authorize(user: ReviewedUser, path: string) {
      calls.authorize++;
      return path === '/metrics' && allowed.has(user.username);
    },
  };
  return {
    reviews,
    calls,
    holdReviews: () => {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
    failNextReview: (err: Error) => (failNext = err),
  };
}

const users = { 'reader-token': 'system:serviceaccount:monitoring:prometheus', 'other-token': 'system:serviceaccount:default:app' };
const allowed = new Set(['system:serviceaccount:monitoring:prometheus']);

describe('MetricsAuthorizer', () => {
  it('lets a reviewed, authorized token through; 403 for an authenticated user without the right; 401 for an unknown token', async () => {
    const { reviews } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger });
    expect(await auth.check('Bearer reader-token')).toEqual({ status: 200, user: 'system:serviceaccount:monitoring:prometheus' });
    expect(await auth.check('Bearer other-token')).toMatchObject({ status: 403, message: expect.stringContaining('system:serviceaccount:default:app') });
    expect(await auth.check('Bearer unknown')).toMatchObject({ status: 401 });
  });

  it('refuses a missing or malformed Authorization header without asking the API server', async () => {
    const { reviews, calls } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger });
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'reader-token', 'Bearer a b', 'Bearer \u0000', `Bearer ${'a'.repeat(20_000)}`, 'Bearer tok"en']) {
      expect((await auth.check(header)).status, JSON.stringify(header?.slice(0, 20))).toBe(401);
    }
    expect(calls.authenticate).toBe(0);
    // The scheme is case-insensitive.
    expect((await auth.check('bearer reader-token')).status).toBe(200);
  });

  it('remembers verdicts for their time to live, allows longer than denials', async () => {
    let now = 1_000_000;
    const { reviews, calls } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger, now: () => now, allowTtlMs: 60_000, denyTtlMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      expect((await auth.check('Bearer reader-token')).status).toBe(200);
      expect((await auth.check('Bearer other-token')).status).toBe(403);
    }
    expect(calls.authenticate).toBe(2);
    now += 10_001;
    await auth.check('Bearer reader-token');
    await auth.check('Bearer other-token');
    expect(calls.authenticate).toBe(3);
    now += 50_000;
    await auth.check('Bearer reader-token');
    expect(calls.authenticate).toBe(4);
  });

  it('keeps at most maxEntries verdicts, dropping the oldest', async () => {
    const { reviews, calls } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger, maxEntries: 3 });
    await auth.check('Bearer reader-token');
    for (const garbage of ['g1', 'g2', 'g3']) await auth.check(`Bearer ${garbage}`);
    expect(calls.authenticate).toBe(4);
    // reader-token was the oldest and was dropped; g3 is still remembered.
    await auth.check('Bearer g3');
    expect(calls.authenticate).toBe(4);
    await auth.check('Bearer reader-token');
    expect(calls.authenticate).toBe(5);
  });

  it('reviews a token once while concurrent requests wait for it, and refuses more concurrent reviews than allowed with 429', async () => {
    const { reviews, calls, holdReviews } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger, maxConcurrentReviews: 2 });
    const release = holdReviews();
    const same = Array.from({ length: 10 }, () => auth.check('Bearer reader-token'));
    const second = auth.check('Bearer other-token');
    expect(await auth.check('Bearer third-token')).toMatchObject({ status: 429 });
    release();
    expect((await Promise.all(same)).map((v) => v.status)).toEqual(Array(10).fill(200));
    expect((await second).status).toBe(403);
    expect(calls.authenticate).toBe(2);
    // The slots are free again.
    expect((await auth.check('Bearer third-token')).status).toBe(401);
  });

  it('fails with 500, and does not remember it, when a review fails or does not finish in time', async () => {
    const { reviews, calls, holdReviews, failNextReview } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger, reviewTimeoutMs: 50 });
    failNextReview(Object.assign(new Error('connect ECONNREFUSED'), { code: 503 }));
    expect(await auth.check('Bearer reader-token')).toMatchObject({ status: 500 });
    expect((await auth.check('Bearer reader-token')).status).toBe(200);
    expect(calls.authenticate).toBe(2);

    const release = holdReviews();
    expect(await auth.check('Bearer other-token')).toMatchObject({ status: 500, message: expect.stringContaining('in time') });
    release();
  });

  it('keeps no token in its cache', async () => {
    const { reviews } = scriptedReviews(users, allowed);
    const auth = new MetricsAuthorizer({ reviews, logger });
    await auth.check('Bearer reader-token');
    const kept = JSON.stringify([...(auth as unknown as { verdicts: Map<string, unknown> }).verdicts.entries()]);
    expect(kept).not.toContain('reader-token');
  });
});
