// DNS rebinding: a web page on an attacker's domain that resolves to 127.0.0.1 could otherwise read a
// web view bound to loopback (the demo's) with the user's browser. Such requests carry the attacker's
// host name in Host, so only hosts no public DNS name can be are answered: IP literals, localhost,
// and in-cluster Service names (*.svc, *.svc.cluster.local), as dev servers' allowedHosts: 'auto' do.
import { isIP } from 'node:net';

export function isAllowedHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader.length > 255) return false;
  const host = hostHeader.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(host);
  if (bracketed) return isIP(bracketed[1]!) === 6;
  const name = host.replace(/:\d{1,5}$/, '');
  if (isIP(name) === 4) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+svc(\.cluster\.local)?\.?$/.test(name);
}
