import { describe, expect, it } from 'vitest';
import { parsePrometheusUrl, UrlAllowlist } from '../../../src/prometheus/url-allowlist.js';

const allows = (list: string[], url: string) => {
  const parsed = parsePrometheusUrl(url);
  if (typeof parsed === 'string') throw new Error(parsed);
  return new UrlAllowlist(list).allows(parsed);
};

describe('UrlAllowlist', () => {
  it('allows a prefix and what lies below it at a path segment boundary', () => {
    const list = ['http://thanos.monitoring:9090/tenant-a'];
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-a')).toBe(true);
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-a/')).toBe(true);
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-a/sub')).toBe(true);
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-ab')).toBe(false);
    expect(allows(list, 'http://thanos.monitoring:9090/')).toBe(false);
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-a/../tenant-b')).toBe(false);
    expect(allows(list, 'http://thanos.monitoring:9090/tenant-a/%2e%2e/tenant-b')).toBe(false);
  });

  it('compares scheme, host and port exactly, with default ports filled in', () => {
    const list = ['http://prometheus.monitoring:9090', 'https://prom.example'];
    expect(allows(list, 'http://prometheus.monitoring:9090/')).toBe(true);
    expect(allows(list, 'https://prometheus.monitoring:9090')).toBe(false);
    expect(allows(list, 'http://prometheus.monitoring:9091')).toBe(false);
    expect(allows(list, 'http://prometheus.monitoring.evil:9090')).toBe(false);
    expect(allows(list, 'http://PROMETHEUS.monitoring:9090')).toBe(true);
    expect(allows(list, 'https://prom.example:443/x')).toBe(true);
    expect(allows(list, 'http://prom.example')).toBe(false);
  });

  it('allows nothing when empty, and ignores credentials and query in entries', () => {
    expect(allows([], 'http://prometheus:9090')).toBe(false);
    expect(allows(['http://admin:pw@prometheus:9090/?x=1'], 'http://prometheus:9090')).toBe(true);
    expect(new UrlAllowlist(['http://admin:pw@prometheus:9090']).describe()).toBe('http://prometheus:9090');
  });

  it('refuses entries that are not http(s) URLs with a host', () => {
    expect(() => new UrlAllowlist(['prometheus:9090'])).toThrow(/must be an http/);
    expect(() => new UrlAllowlist(['not a url'])).toThrow(/not an absolute URL/);
    expect(() => new UrlAllowlist(['file:///etc/passwd'])).toThrow(/must be an http/);
  });
});

describe('parsePrometheusUrl', () => {
  it.each([
    ['http://', 'is not an absolute URL'],
    ['ftp://prometheus', 'must start with http'],
    ['http://user:pass@prometheus:9090', 'must not contain a user name or password'],
    ['http://prometheus:9090/?evil=1', 'must not have a query string'],
    ['http://prometheus:9090/#x', 'must not have a query string or fragment'],
    [`http://p/${'a'.repeat(3000)}`, 'longer than 2048'],
  ])('refuses %s', (url, reason) => {
    expect(parsePrometheusUrl(url)).toMatch(reason);
  });

  it('accepts a plain base URL with a path prefix', () => {
    expect(parsePrometheusUrl('https://prom.example/prefix')).toBeInstanceOf(URL);
  });
});
