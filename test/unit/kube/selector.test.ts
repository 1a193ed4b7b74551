import { describe, expect, it } from 'vitest';
import { parseSelector, SelectorError } from '../../../src/kube/selector.js';

const WEB = { app: 'web', tier: 'frontend', 'app.kubernetes.io/version': '12' };

describe('parseSelector', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['', WEB, true],
    ['app=web', WEB, true],
    ['app=api', WEB, false],
    ['app==web', WEB, true],
    ['app = web , tier = frontend', WEB, true],
    ['app=web,tier=backend', WEB, false],
    ['app!=api', WEB, true],
    ['app!=web', WEB, false],
    ['track!=canary', WEB, true],
    ['tier', WEB, true],
    ['track', WEB, false],
    ['!track', WEB, true],
    ['!tier', WEB, false],
    ['tier in (frontend,backend)', WEB, true],
    ['tier in (backend, batch)', WEB, false],
    ['track in (stable)', WEB, false],
    ['tier notin (backend,batch)', WEB, true],
    ['tier notin (frontend)', WEB, false],
    ['track notin (canary)', WEB, true],
    ['app=web,tier in (frontend,backend),!track', WEB, true],
    ['app.kubernetes.io/version>11', WEB, true],
    ['app.kubernetes.io/version>12', WEB, false],
    ['app.kubernetes.io/version<13', WEB, true],
    ['app>1', WEB, false],
    ['constructor', WEB, false],
    ['app=', WEB, false],
    ['empty=', { empty: '' }, true],
  ])('%j on %j -> %s', (selector, labels, expected) => {
    expect(parseSelector(selector)(labels)).toBe(expected);
  });

  it('matches an object without labels only with requirements a missing label satisfies', () => {
    expect(parseSelector('app!=web,!tier')(undefined)).toBe(true);
    expect(parseSelector('app=web')(undefined)).toBe(false);
  });

  it.each(['app=web,', 'app in (web', 'app in web)', 'app=we b', 'app >= 3', 'app in (a,b c)', 'app>x', '=web'])('refuses %j', (selector) => {
    expect(() => parseSelector(selector)).toThrow(SelectorError);
  });
});
