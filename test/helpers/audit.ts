// kube-apiserver audit logging for tests that need to know exactly which requests a client made:
// who wrote a Deployment's scale, which status updates hit 409, whether a watch got 410 Gone.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username?: string; extra?: Record<string, string[]> };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export interface AuditLog {
  /** kube-apiserver flags that turn the audit log on. */
  apiServerArgs: string[];
  /** Every completed request logged so far (stage ResponseComplete), oldest first. */
  read(): Promise<AuditEvent[]>;
}

/** API groups whose requests are logged (at Metadata level: no bodies). */
const AUDITED_GROUPS = ['autoscaling.prescale.dev', 'apps', 'coordination.k8s.io'];

/** Writes the policy into `dir` and returns the flags plus a reader for the log written beside it. */
export async function auditLog(dir: string): Promise<AuditLog> {
  const policyPath = join(dir, 'audit-policy.json');
  const logPath = join(dir, 'audit.log');
  const policy = {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived', 'ResponseStarted'],
    rules: [
      { level: 'Metadata', resources: AUDITED_GROUPS.map((group) => ({ group })) },
      { level: 'None' },
    ],
  };
  await writeFile(policyPath, JSON.stringify(policy));
  await writeFile(logPath, '');
  return {
    apiServerArgs: [`--audit-policy-file=${policyPath}`, `--audit-log-path=${logPath}`, '--audit-log-mode=blocking', '--audit-log-format=json'],
    async read() {
      const text = await readFile(logPath, 'utf8');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEvent)
        .filter((e) => e.stage === 'ResponseComplete');
    },
  };
}

/** The ServiceAccount token credential an audit event was made with ("JTI=<id>"), if recorded. */
export function credentialId(event: AuditEvent): string | undefined {
  return event.user.extra?.['authentication.kubernetes.io/credential-id']?.[0];
}

/** The credential id kube-apiserver records for a ServiceAccount JWT. */
export function tokenCredentialId(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti?: string };
  if (!payload.jti) throw new Error('the token has no jti claim');
  return `JTI=${payload.jti}`;
}
