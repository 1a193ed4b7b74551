import { describe, expect, it } from 'vitest';
import { authFromSecretData, authorizationHeader } from '../../../src/prometheus/auth.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('authFromSecretData', () => {
  it('reads a bearer token from key "token", without the trailing newline echo leaves', () => {
    expect(authFromSecretData({ token: b64('abc.def\n') })).toEqual({ bearerToken: 'abc.def' });
  });

  it('reads basic auth from keys "username" and "password"', () => {
    expect(authFromSecretData({ username: b64('grafana'), password: b64('p@ss word') })).toEqual({
      username: 'grafana',
      password: 'p@ss word',
    });
  });

  it('prefers the token when both kinds are present', () => {
    expect(authFromSecretData({ token: b64('t'), username: b64('u'), password: b64('p') })).toEqual({ bearerToken: 't' });
  });

  it('names the expected keys, never the ones the Secret has', () => {
    const message = (data: Record<string, string> | undefined) => {
      try {
        authFromSecretData(data);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a failure');
    };
    expect(message({ 'db-password': b64('u'), pass: b64('p') })).toBe(
      'the auth Secret has no usable credentials: expected key "token" (bearer token) or keys "username" and "password" (basic auth)',
    );
    expect(message({ username: b64('u') })).toMatch(/"username" and "password"/);
    expect(message({})).toMatch(/no usable credentials/);
    expect(message(undefined)).toMatch(/no usable credentials/);
  });

  it('rejects values that are not base64 without echoing them', () => {
    expect(() => authFromSecretData({ token: 'plain text secret!' })).toThrow(/"token" is not valid base64/);
    expect(() => authFromSecretData({ token: 'plain text secret!' })).not.toThrow(/secret!/);
  });

  it('rejects an empty token or username', () => {
    expect(() => authFromSecretData({ token: b64('\n') })).toThrow(/"token" is empty/);
    expect(() => authFromSecretData({ username: '', password: b64('p') })).toThrow(/"username" is empty/);
  });
});

describe('authorizationHeader', () => {
  it('builds bearer and basic headers', () => {
    expect(authorizationHeader({ bearerToken: 'abc' })).toBe('Bearer abc');
    expect(authorizationHeader({ username: 'u', password: 'p:w' })).toBe(`Basic ${b64('u:p:w')}`);
  });
});
