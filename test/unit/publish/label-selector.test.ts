import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesSelector, parseSelector, selectedValue } from '../../../src/publish/label-selector.js';

describe('parseSelector', () => {
  it.each([
    ['scaler=web', [{ key: 'scaler', op: 'in', values: ['web'] }]],
    ['scaler==web', [{ key: 'scaler', op: 'in', values: ['web'] }]],
    ['scaler = web , env!=prod', [{ key: 'scaler', op: 'in', values: ['web'] }, { key: 'env', op: 'notin', values: ['prod'] }]],
    ['tier in (a, b),example.com/x notin (c)', [{ key: 'tier', op: 'in', values: ['a', 'b'] }, { key: 'example.com/x', op: 'notin', values: ['c'] }]],
    ['app,!legacy', [{ key: 'app', op: 'exists' }, { key: 'legacy', op: 'doesnotexist' }]],
    ['', []],
  ])('%j', (text, requirements) => {
    expect(parseSelector(text)).toEqual({ ok: true, requirements });
  });

  it.each(['scaler=', 'a=b=c', 'in (x', 'a in (x))', ',', 'a=b,', 'scaler=we b', '-bad=x', `a=${'x'.repeat(64)}`, 'a in (b,c d)'])('refuses %j with a message', (text) => {
    const parsed = parseSelector(text);
    // "scaler=" is an empty value, which Kubernetes allows.
    if (text === 'scaler=') expect(parsed).toEqual({ ok: true, requirements: [{ key: 'scaler', op: 'in', values: [''] }] });
    else expect(parsed).toMatchObject({ ok: false, message: expect.any(String) });
  });

  it('bounds the cost of a hostile selector', () => {
    expect(parseSelector('a'.repeat(5000))).toMatchObject({ ok: false, message: expect.stringMatching(/longer than/) });
    expect(parseSelector(Array.from({ length: 40 }, (_, i) => `k${i}=v`).join(','))).toMatchObject({ ok: false, message: expect.stringMatching(/more than 32/) });
  });

  it('never throws, on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseSelector(text);
        expect(typeof parsed.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('selectedValue and matchesSelector', () => {
  const req = (text: string) => {
    const p = parseSelector(text);
    if (!p.ok) throw new Error(p.message);
    return p.requirements;
  };
  it('finds the one pinned value', () => {
    expect(selectedValue(req('scaler=web'), 'scaler')).toBe('web');
    expect(selectedValue(req('scaler in (web)'), 'scaler')).toBe('web');
    expect(selectedValue(req('scaler=web,scaler=api'), 'scaler')).toBeUndefined();
    expect(selectedValue(req('scaler in (web,api)'), 'scaler')).toBeUndefined();
    expect(selectedValue(req('scaler!=web'), 'scaler')).toBeUndefined();
    expect(selectedValue(req('app=web'), 'scaler')).toBeUndefined();
  });
  it('matches with Kubernetes semantics', () => {
    const labels = { scaler: 'web' };
    expect(matchesSelector(req('scaler=web'), labels)).toBe(true);
    expect(matchesSelector(req('scaler=web,app=x'), labels)).toBe(false);
    expect(matchesSelector(req('scaler=web,app!=x'), labels)).toBe(true);
    expect(matchesSelector(req('scaler=web,!app'), labels)).toBe(true);
    expect(matchesSelector(req('scaler=web,app'), labels)).toBe(false);
    expect(matchesSelector(req('scaler notin (web)'), labels)).toBe(false);
  });
});
