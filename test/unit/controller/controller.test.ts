import { ApiException } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PredictiveScaler } from '../../../src/api/types.js';
import { Controller, needsReconcile, scalerKey } from '../../../src/controller/controller.js';
import type { ReconcileResult } from '../../../src/controller/reconciler.js';
import type { ResilientInformer } from '../../../src/kube/informer.js';
import { createOperatorMetrics, type OperatorMetrics } from '../../../src/observability/metrics.js';

function scaler(name: string, meta: Partial<PredictiveScaler['metadata']> = {}, status?: PredictiveScaler['status']): PredictiveScaler {
  return {
    apiVersion: 'autoscaling.prescale.dev/v1alpha1',
    kind: 'PredictiveScaler',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: 1, resourceVersion: '100', ...meta },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      maxReplicas: 10,
      metrics: [{ name: 'rps', query: 'rps', targetPerReplica: '10' }],
    },
    ...(status ? { status } : {}),
  };
}

describe('scalerKey', () => {
  it('is namespace/name', () => {
    expect(scalerKey(scaler('web'))).toBe('shop/web');
    expect(scalerKey({ metadata: { name: 'x' } })).toBe('/x');
  });
});

describe('needsReconcile', () => {
  const before = scaler('web', { annotations: { team: 'a' } }, { desiredReplicas: 3 });

  it.each<[string, PredictiveScaler | undefined, PredictiveScaler, boolean]>([
    ['a new object', undefined, before, true],
    ['a status-only update with a new resourceVersion', before, { ...scaler('web', { annotations: { team: 'a' }, resourceVersion: '101' }), status: { desiredReplicas: 5 } }, false],
    ['a spec change (new generation)', before, scaler('web', { annotations: { team: 'a' }, generation: 2, resourceVersion: '101' }), true],
    ['the object deleted and re-created (new uid)', before, scaler('web', { annotations: { team: 'a' }, uid: 'other' }), true],
    ['an annotation added', before, scaler('web', { annotations: { team: 'a', 'autoscaling.prescale.dev/paused': 'true' } }), true],
    ['an annotation changed', before, scaler('web', { annotations: { team: 'b' } }), true],
    ['annotations removed', before, scaler('web'), true],
    ['a label change only', before, scaler('web', { annotations: { team: 'a' }, labels: { tier: 'x' }, resourceVersion: '102' }), false],
    ['no annotations before and an empty map after', scaler('web'), scaler('web', { annotations: {} }), false],
  ])('%s -> %s', (_what, b, a, expected) => {
    expect(needsReconcile(b, a)).toBe(expected);
  });
});

/** The part of ResilientInformer the controller uses: a cache and event handlers. */
class FakeInformer {
  readonly objects: PredictiveScaler[] = [];
  readonly cache = { list: () => [...this.objects] };
  private readonly handlers = new Map<string, Array<(obj: PredictiveScaler) => void>>();

  on(verb: 'add' | 'update' | 'delete', cb: (obj: PredictiveScaler) => void): void {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb]);
  }

  emit(verb: 'add' | 'update' | 'delete', obj: PredictiveScaler): void {
    for (const cb of this.handlers.get(verb) ?? []) cb(obj);
  }
}

type Script = (key: string, call: number) => ReconcileResult | Error;

/** Records each reconcile with the fake clock's time; answers from a script. */
class FakeReconciler {
  readonly calls: { key: string; at: number }[] = [];
  constructor(private script: Script = () => ({})) {}

  respond(script: Script): void {
    this.script = script;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const n = this.calls.filter((c) => c.key === key).length;
    this.calls.push({ key, at: Date.now() });
    const answer = this.script(key, n);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  times(key: string): number[] {
    return this.calls.filter((c) => c.key === key).map((c) => c.at - T0);
  }
}

const T0 = Date.UTC(2026, 2, 2, 14, 0);
const flush = () => vi.advanceTimersByTimeAsync(0);

async function errorCounts(metrics: OperatorMetrics): Promise<Record<string, number>> {
  const { values } = await metrics.reconcileErrors.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

function setup(script?: Script) {
  const informer = new FakeInformer();
  const reconciler = new FakeReconciler(script);
  const metrics = createOperatorMetrics(new Registry());
  const controller = new Controller({
    informer: informer as unknown as ResilientInformer<PredictiveScaler>,
    reconciler,
    concurrency: 2,
    logger: pino({ level: 'silent' }),
    metrics,
  });
  return { informer, reconciler, metrics, controller };
}

describe('Controller', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reconciles every cached scaler on start', async () => {
    const { informer, reconciler, controller } = setup();
    informer.objects.push(scaler('a'), scaler('b'));

    controller.start();
    await flush();

    expect(reconciler.calls.map((c) => c.key).sort()).toEqual(['shop/a', 'shop/b']);
    await controller.stop();
  });

  it('requeues each scaler after the requeueAfterMs its reconcile returned', async () => {
    const { informer, reconciler, controller } = setup((key) => ({ requeueAfterMs: key === 'shop/a' ? 30_000 : 60_000 }));
    informer.objects.push(scaler('a'), scaler('b'));
    controller.start();

    await vi.advanceTimersByTimeAsync(29_999);
    expect(reconciler.times('shop/a')).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reconciler.times('shop/a')).toEqual([0, 30_000]);

    await vi.advanceTimersByTimeAsync(90_000);
    expect(reconciler.times('shop/a')).toEqual([0, 30_000, 60_000, 90_000, 120_000]);
    expect(reconciler.times('shop/b')).toEqual([0, 60_000, 120_000]);
    await controller.stop();
  });

  it('does not requeue when the reconcile asks for none', async () => {
    const { informer, reconciler, controller } = setup(() => ({}));
    informer.objects.push(scaler('a'));
    controller.start();

    await vi.advanceTimersByTimeAsync(3_600_000);

    expect(reconciler.calls).toHaveLength(1);
    await controller.stop();
  });

  it('backs off exponentially on errors, counts them by reason, and resets the backoff after a success', async () => {
    const failing = new Set([0, 1, 2, 4]);
    const { informer, reconciler, metrics, controller } = setup((_key, n) =>
      failing.has(n) ? new Error('prometheus down') : { requeueAfterMs: 10_000 },
    );
    informer.objects.push(scaler('a'));
    controller.start();

    // fail at 0, retry after 1 s, fail, after 2 s, fail, after 4 s: succeed; requeue after 10 s: fail; retry after 1 s again.
    await vi.advanceTimersByTimeAsync(20_000);

    expect(reconciler.times('shop/a')).toEqual([0, 1000, 3000, 7000, 17_000, 18_000]);
    expect(await errorCounts(metrics)).toEqual({ Error: 4 });
    await controller.stop();
  });

  it.each<{ what: string; err: Error; reason: string }>([
    { what: 'a conflict', err: new ApiException(409, 'conflict', {}, {}), reason: 'Conflict' },
    { what: 'another API status', err: new ApiException(503, 'unavailable', {}, {}), reason: 'HTTP503' },
    { what: 'a named error', err: Object.assign(new Error('bad query'), { name: 'PrometheusQueryError' }), reason: 'PrometheusQueryError' },
    { what: 'a plain error', err: new Error('x'), reason: 'Error' },
  ])('labels $what as reason $reason', async ({ err, reason }) => {
    const { informer, metrics, controller } = setup((_k, n) => (n === 0 ? err : {}));
    informer.objects.push(scaler('a'));
    controller.start();
    await flush();

    expect(await errorCounts(metrics)).toEqual({ [reason]: 1 });
    await controller.stop();
  });

  it('does not enqueue on a status-only update, but does on a spec or annotation change', async () => {
    const { informer, reconciler, controller } = setup();
    const original = scaler('a');
    informer.objects.push(original);
    informer.emit('add', original);
    controller.start();
    await flush();
    expect(reconciler.calls).toHaveLength(1);

    informer.emit('update', { ...scaler('a', { resourceVersion: '101' }), status: { desiredReplicas: 4 } });
    await flush();
    expect(reconciler.calls).toHaveLength(1);

    informer.emit('update', scaler('a', { resourceVersion: '102', generation: 2 }));
    await flush();
    expect(reconciler.calls).toHaveLength(2);

    informer.emit('update', scaler('a', { resourceVersion: '103', generation: 2, annotations: { 'autoscaling.prescale.dev/paused': 'true' } }));
    await flush();
    expect(reconciler.calls).toHaveLength(3);
    await controller.stop();
  });

  it('reconciles a newly added scaler', async () => {
    const { informer, reconciler, controller } = setup();
    controller.start();
    await flush();
    expect(reconciler.calls).toHaveLength(0);

    informer.emit('add', scaler('new'));
    await flush();

    expect(reconciler.calls.map((c) => c.key)).toEqual(['shop/new']);
    await controller.stop();
  });

  it('reconciles a deleted scaler once (so the reconciler can clean up), and treats a re-created one as new', async () => {
    const { informer, reconciler, controller } = setup();
    const a = scaler('a');
    informer.emit('add', a);
    controller.start();
    await flush();

    informer.emit('delete', a);
    await flush();
    expect(reconciler.calls.map((c) => c.key)).toEqual(['shop/a', 'shop/a']);

    // Same uid and generation as before the delete: only a forgotten object makes this a reconcile.
    informer.emit('add', a);
    await flush();
    expect(reconciler.calls).toHaveLength(3);
    await controller.stop();
  });

  it('reconciles a scaler once at start-up when the initial list already queued it', async () => {
    const { informer, reconciler, controller } = setup();
    informer.emit('add', scaler('a'));
    informer.emit('update', scaler('a', { generation: 2 }));
    informer.objects.push(scaler('a', { generation: 2 }));
    expect(controller.queueLength()).toBe(1);

    controller.start();
    await flush();

    expect(reconciler.calls).toHaveLength(1);
    await controller.stop();
  });

  it('stops requeueing after stop()', async () => {
    const { informer, reconciler, controller } = setup(() => ({ requeueAfterMs: 1000 }));
    informer.objects.push(scaler('a'));
    controller.start();
    await flush();

    await controller.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(reconciler.calls).toHaveLength(1);
  });

  it('waits for an in-flight reconcile on stop() and does not requeue it', async () => {
    let release!: () => void;
    const { informer, reconciler, controller } = setup();
    reconciler.respond(() => ({ requeueAfterMs: 1000 }));
    const slow = new Promise<void>((r) => (release = r));
    const original = reconciler.reconcile.bind(reconciler);
    reconciler.reconcile = async (key) => {
      const result = await original(key);
      await slow;
      return result;
    };
    informer.objects.push(scaler('a'));
    controller.start();
    await flush();

    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);

    expect(reconciler.calls).toHaveLength(1);
  });
});
