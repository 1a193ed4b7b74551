import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import { PLAN_REFRESH_MS, PlanManager, planKey } from '../../../src/controller/plans.js';
import type { PlanRunner } from '../../../src/controller/training/trainer.js';
import { PlanningUnavailable, type PlanReport, type ReplanInput } from '../../../src/planner/replan.js';
import type { Series } from '../../../src/forecast/types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function config(scaling: Record<string, unknown> = { objective: { maxUnderProvisioned: '1%' } }, forecast: Record<string, unknown> = {}): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 20,
    metrics: [{ name: 'rps', query: 'q', targetPerReplica: 10 }],
    forecast,
    scaling: { leadTime: '2m', ...scaling },
  });
}

const history: Series = { start: 0, stepMs: MIN, values: [1, 2, 3] };

function report(quantile: number, leadTimeMs = 2 * MIN): PlanReport {
  return {
    plan: { quantile, headroom: 0.05 },
    objective: { maxUnderProvisioned: 0.01 },
    met: true,
    reason: `q${quantile} +5% is the cheapest`,
    plans: 24,
    simulated: { underProvisioned: 0.004, replicaMinutesRatio: 1.2, scaleEvents: 10 },
    hpa: { underProvisioned: 0.03, replicaMinutesRatio: 1.1, scaleEvents: 8, targetForObjective: 0.7 },
    windowMs: 3 * 24 * HOUR,
    evaluatedMinutes: 3000,
    leadTimeMs,
    plannedAt: 0,
  };
}

/** A runner whose replans settle when the test says so. */
class ManualRunner implements PlanRunner {
  readonly requests: ReplanInput[] = [];
  private readonly settles: { resolve: (r: PlanReport) => void; reject: (e: Error) => void }[] = [];
  plan(request: ReplanInput): Promise<PlanReport> {
    this.requests.push(request);
    return new Promise((resolve, reject) => this.settles.push({ resolve, reject }));
  }
  async resolve(r: PlanReport): Promise<void> {
    this.settles.shift()!.resolve(r);
    await new Promise((r) => setImmediate(r));
  }
  async reject(e: Error): Promise<void> {
    this.settles.shift()!.reject(e);
    await new Promise((r) => setImmediate(r));
  }
}

function manager() {
  let now = 1_000_000;
  const runner = new ManualRunner();
  const settled: string[] = [];
  const outcomes: string[] = [];
  const plans = new PlanManager({ now: () => now, runner, onSettled: (k) => settled.push(k), onPlanned: (_s, o) => outcomes.push(o) });
  return { plans, runner, settled, outcomes, advance: (ms: number) => (now += ms) };
}

describe('PlanManager', () => {
  it('plans nothing for a spec without an objective or Auto field', () => {
    const { plans, runner } = manager();
    const cfg = config({});
    expect(cfg.planner).toBeUndefined();
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(plans.view('ns/a', cfg)).toBeUndefined();
    expect(runner.requests).toHaveLength(0);
  });

  it('is pending until the first replan settles in the background, then serves it and reconciles the scaler again', async () => {
    const { plans, runner, settled, outcomes } = manager();
    const cfg = config();
    expect(plans.view('ns/a', cfg)).toMatchObject({ state: 'Pending' });
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(1);
    expect(runner.requests[0]).toMatchObject({ demand: history, config: cfg, leadTimeMs: 2 * MIN });
    expect(plans.view('ns/a', cfg)).toMatchObject({ state: 'Pending', message: expect.stringMatching(/simulating the recent history \(since \d{4}-/) });
    await runner.resolve(report(0.8));
    expect(plans.view('ns/a', cfg)).toEqual({ state: 'Planned', report: report(0.8), pending: false });
    expect(settled).toEqual(['ns/a']);
    expect(outcomes).toEqual(['success']);
  });

  it('replans once a day, not at every reconcile, and keeps serving the old plan meanwhile', async () => {
    const { plans, runner, advance } = manager();
    const cfg = config();
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    await runner.resolve(report(0.8));
    advance(PLAN_REFRESH_MS - MIN);
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(1);
    advance(MIN);
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(2);
    expect(plans.view('ns/a', cfg)).toMatchObject({ state: 'Planned', pending: true, report: { plan: { quantile: 0.8 } } });
    await runner.resolve(report(0.9));
    expect(plans.view('ns/a', cfg)).toMatchObject({ state: 'Planned', pending: false, report: { plan: { quantile: 0.9 } } });
  });

  it('a retrain period longer than a day sets the cadence', async () => {
    const { plans, runner, advance } = manager();
    const cfg = config(undefined, { retrainEvery: '7d' });
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    await runner.resolve(report(0.8));
    advance(2 * PLAN_REFRESH_MS);
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(1);
  });

  it('a changed objective makes the plan stale at once: it stops serving and a replan starts', async () => {
    const { plans, runner } = manager();
    plans.refresh('ns/a', config(), history, { leadTimeMs: 2 * MIN });
    await runner.resolve(report(0.8));
    const stricter = config({ objective: { maxUnderProvisioned: '0.1%' } });
    expect(planKey(stricter)).not.toBe(planKey(config()));
    expect(plans.view('ns/a', stricter)).toMatchObject({ state: 'Pending' });
    plans.refresh('ns/a', stricter, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(2);
  });

  it('the learned lead time moving by more than half replans; small moves do not', async () => {
    const { plans, runner } = manager();
    const cfg = config();
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 4 * MIN });
    await runner.resolve(report(0.8, 4 * MIN));
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 5 * MIN });
    expect(runner.requests).toHaveLength(1);
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 7 * MIN });
    expect(runner.requests).toHaveLength(2);
  });

  it('an unavailable plan says why and is tried again after 15 minutes; a failure too, and it is logged', async () => {
    const warnings: string[] = [];
    let now = 0;
    const runner = new ManualRunner();
    const outcomes: string[] = [];
    const plans = new PlanManager({ now: () => now, runner, logger: { warn: (_f, m) => warnings.push(m) }, onPlanned: (_s, o) => outcomes.push(o) });
    const cfg = config();
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    await runner.reject(new PlanningUnavailable('planning needs 1d of history, have 3m'));
    expect(plans.view('ns/a', cfg)).toEqual({ state: 'Unavailable', message: 'planning needs 1d of history, have 3m' });
    now += 14 * MIN;
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(1);
    now += MIN;
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(2);
    await runner.reject(new Error('worker exited with code 1'));
    expect(plans.view('ns/a', cfg)).toEqual({ state: 'Unavailable', message: 'planning failed: worker exited with code 1' });
    expect(warnings).toEqual(['planning failed']);
    expect(outcomes).toEqual(['unavailable', 'failure']);
  });

  it('a runner that throws, or answers inline, settles at once', () => {
    let now = 0;
    const cfg = config();
    const throwing = new PlanManager({ now: () => now, runner: { plan: () => { throw new Error('closed'); } } });
    throwing.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(throwing.view('ns/a', cfg)).toMatchObject({ state: 'Unavailable', message: 'planning failed: closed' });
    const inline = new PlanManager({ now: () => now, runner: { plan: () => report(0.7) } });
    inline.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    expect(inline.view('ns/a', cfg)).toMatchObject({ state: 'Planned', report: { plan: { quantile: 0.7 } } });
    now += 1;
  });

  it('a replan that settles after the scaler was forgotten changes nothing', async () => {
    const { plans, runner, settled } = manager();
    const cfg = config();
    plans.refresh('ns/a', cfg, history, { leadTimeMs: 2 * MIN });
    plans.forget('ns/a');
    await runner.resolve(report(0.8));
    expect(settled).toEqual([]);
    expect(plans.view('ns/a', cfg)).toMatchObject({ state: 'Pending' });
  });

  it('no history: nothing to plan on yet', () => {
    const { plans, runner } = manager();
    plans.refresh('ns/a', config(), undefined, { leadTimeMs: 2 * MIN });
    expect(runner.requests).toHaveLength(0);
  });
});
