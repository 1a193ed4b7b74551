// Credentials for Prometheus, taken from a Kubernetes Secret (spec.prometheus.authSecretRef).

export type PrometheusAuth = { bearerToken: string } | { username: string; password: string };

const EXPECTED_KEYS = 'expected key "token" (bearer token) or keys "username" and "password" (basic auth)';

/**
 * Reads a Secret's `data` map (base64 values, as the API server returns it). Key `token` gives a
 * bearer token; keys `username` and `password` give basic auth. The token is trimmed because a
 * trailing newline from `echo token | base64` is a common mistake and is never part of a token.
 */
export function authFromSecretData(data: Record<string, string> | undefined): PrometheusAuth {
  if (data && 'token' in data) {
    const bearerToken = decodeBase64(data.token, 'token').trim();
    if (bearerToken === '') throw new Error('the auth Secret key "token" is empty');
    return { bearerToken };
  }
  if (data && 'username' in data && 'password' in data) {
    const username = decodeBase64(data.username, 'username');
    if (username === '') throw new Error('the auth Secret key "username" is empty');
    return { username, password: decodeBase64(data.password, 'password') };
  }
  // The keys it does have are not named: status is readable by more people than the Secret.
  throw new Error(`the auth Secret has no usable credentials: ${EXPECTED_KEYS}`);
}

/** The Authorization header value for these credentials. */
export function authorizationHeader(auth: PrometheusAuth): string {
  if ('bearerToken' in auth) return `Bearer ${auth.bearerToken}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

function decodeBase64(value: string, key: string): string {
  const compact = value.replace(/\s+/g, '');
  // Buffer.from silently drops invalid characters; reject them so a Secret written with
  // stringData-style plain text in `data` fails loudly instead of yielding garbage credentials.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new Error(`the auth Secret key "${key}" is not valid base64`);
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}
