import { describe, expect, it } from 'vitest';
import type { Condition, ConditionStatus, ConditionType } from '../../../src/api/types.js';
import { isBad, mergeConditions, newlyBad, type ConditionUpdate } from '../../../src/controller/conditions.js';

const T0 = new Date('2026-03-02T14:00:00.000Z');
const T1 = new Date('2026-03-02T14:05:00.000Z');

function update(type: ConditionType, status: ConditionStatus, reason = 'Some', message = 'msg'): ConditionUpdate {
  return { type, status, reason, message };
}

function condition(type: ConditionType, status: ConditionStatus, reason = 'Some', at = T0): Condition {
  return { type, status, reason, message: 'msg', lastTransitionTime: at.toISOString() };
}

describe('isBad', () => {
  it.each<[ConditionType, ConditionStatus, boolean]>([
    ['Degraded', 'True', true],
    ['Degraded', 'False', false],
    ['Degraded', 'Unknown', false],
    ['ScalingLimited', 'True', false],
    ['ScalingLimited', 'False', false],
    ['ScalingLimited', 'Unknown', false],
    ['Ready', 'False', true],
    ['Ready', 'True', false],
    ['Ready', 'Unknown', false],
    ['AbleToScale', 'False', true],
    ['AbleToScale', 'True', false],
    ['ForecastAvailable', 'False', true],
    ['ForecastAvailable', 'True', false],
  ])('%s=%s is bad: %s', (type, status, bad) => {
    expect(isBad({ type, status })).toBe(bad);
  });
});

describe('mergeConditions', () => {
  it('stamps new conditions with now and sets observedGeneration', () => {
    const merged = mergeConditions(undefined, [update('Ready', 'True', 'Scaling', 'all good')], T0, 7);
    expect(merged).toEqual([
      { type: 'Ready', status: 'True', reason: 'Scaling', message: 'all good', lastTransitionTime: T0.toISOString(), observedGeneration: 7 },
    ]);
  });

  it('omits observedGeneration when none is given', () => {
    const [c] = mergeConditions(undefined, [update('Ready', 'True')], T0);
    expect(c).not.toHaveProperty('observedGeneration');
  });

  it('keeps lastTransitionTime when the status is unchanged, even if reason and message change', () => {
    const previous = [condition('ForecastAvailable', 'False', 'InsufficientHistory', T0)];
    const [c] = mergeConditions(previous, [update('ForecastAvailable', 'False', 'ModelFailed', 'every model failed')], T1, 3);
    expect(c).toMatchObject({
      status: 'False',
      reason: 'ModelFailed',
      message: 'every model failed',
      lastTransitionTime: T0.toISOString(),
      observedGeneration: 3,
    });
  });

  it.each<[ConditionStatus, ConditionStatus]>([
    ['True', 'False'],
    ['False', 'True'],
    ['Unknown', 'True'],
    ['True', 'Unknown'],
  ])('moves lastTransitionTime when the status flips %s -> %s', (from, to) => {
    const [c] = mergeConditions([condition('AbleToScale', from, 'Some', T0)], [update('AbleToScale', to, 'Some')], T1);
    expect(c!.status).toBe(to);
    expect(c!.lastTransitionTime).toBe(T1.toISOString());
  });

  it('orders conditions Ready, AbleToScale, ForecastAvailable, ScalingLimited, Degraded whatever the input order', () => {
    const merged = mergeConditions(
      [condition('Degraded', 'False'), condition('ForecastAvailable', 'True')],
      [update('ScalingLimited', 'True'), update('Ready', 'True'), update('AbleToScale', 'True')],
      T1,
    );
    expect(merged.map((c) => c.type)).toEqual(['Ready', 'AbleToScale', 'ForecastAvailable', 'ScalingLimited', 'Degraded']);
  });

  it('keeps previous conditions that were not updated, untouched', () => {
    const previous = [{ ...condition('Degraded', 'True', 'NoData', T0), observedGeneration: 1 }];
    const merged = mergeConditions(previous, [update('Ready', 'True')], T1, 2);
    expect(merged.find((c) => c.type === 'Degraded')).toEqual(previous[0]);
  });

  it('does not mutate the previous conditions', () => {
    const previous = [condition('Ready', 'True', 'Old', T0)];
    const snapshot = structuredClone(previous);
    mergeConditions(previous, [update('Ready', 'False', 'New')], T1, 5);
    expect(previous).toEqual(snapshot);
  });
});

describe('newlyBad', () => {
  it('reports a condition that turned bad', () => {
    const previous = [condition('Ready', 'True')];
    const next = [condition('Ready', 'False', 'TargetNotFound')];
    expect(newlyBad(previous, next).map((c) => c.reason)).toEqual(['TargetNotFound']);
  });

  it('reports a bad condition that was not there before', () => {
    expect(newlyBad(undefined, [condition('Degraded', 'True', 'PrometheusUnreachable')])).toHaveLength(1);
    expect(newlyBad([], [condition('AbleToScale', 'False', 'Forbidden')])).toHaveLength(1);
  });

  it('reports a condition that stayed bad with a different reason', () => {
    const previous = [condition('ForecastAvailable', 'False', 'InsufficientHistory')];
    const next = [condition('ForecastAvailable', 'False', 'ModelFailed')];
    expect(newlyBad(previous, next).map((c) => c.reason)).toEqual(['ModelFailed']);
  });

  it('does not report a condition that stayed bad with the same reason', () => {
    const previous = [condition('Degraded', 'True', 'NoData')];
    const next = [{ ...condition('Degraded', 'True', 'NoData', T1), message: 'a newer message' }];
    expect(newlyBad(previous, next)).toEqual([]);
  });

  it('does not report good conditions, nor ScalingLimited', () => {
    const previous = [condition('Ready', 'False', 'X'), condition('ScalingLimited', 'False')];
    const next = [condition('Ready', 'True', 'Y'), condition('ScalingLimited', 'True', 'ScaleUpRate'), condition('Degraded', 'False')];
    expect(newlyBad(previous, next)).toEqual([]);
  });

  it('picks only the newly bad ones out of several', () => {
    const previous = [condition('Ready', 'False', 'A'), condition('AbleToScale', 'True'), condition('Degraded', 'False')];
    const next = [condition('Ready', 'False', 'A'), condition('AbleToScale', 'False', 'Conflict'), condition('Degraded', 'True', 'NoData')];
    expect(newlyBad(previous, next).map((c) => c.type)).toEqual(['AbleToScale', 'Degraded']);
  });
});
