// Rendered manifests as plain parsed objects, and the commands that render and check them (kubectl,
// helm, promtool), shared by the deploy/ and chart tests.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root with `input` on its stdin; resolves however it exits. */
export function runCommand(binary: string, args: string[], input = '', env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(binary, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
    // A command that reads no stdin may exit before the write lands: EPIPE then is no error of the test.
    child.stdin.once('error', () => undefined);
    child.stdin.end(input);
  });
}

/** Every document of a multi-document YAML text, as plain objects (no field dropped). */
export function parseObjects(text: string, origin: string, version?: '1.1' | '1.2'): K8sObject[] {
  return parseAllDocuments(text, version ? { version } : {}).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${origin}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

/**
 * `kubectl apply --dry-run=server --validate=strict` of the objects. A dry run does not create a
 * Namespace, so objects in a namespace the same manifest creates would be refused as NotFound: the
 * namespaces are created for real first (the Namespace objects themselves are still validated by the
 * dry run, as updates).
 */
export async function serverDryRun(kubectlPath: string, kubeconfigArgs: string[], objects: K8sObject[]): Promise<RunResult> {
  const names = new Set(objects.flatMap((o) => [o.kind === 'Namespace' ? o.metadata.name : undefined, o.metadata.namespace]));
  for (const name of names) {
    if (!name) continue;
    // --save-config, as `kubectl apply` expects of objects it did not create itself.
    const result = await runCommand(kubectlPath, [...kubeconfigArgs, 'create', 'namespace', name, '--save-config']);
    if (result.code !== 0 && !result.stderr.includes('AlreadyExists')) throw new Error(`creating namespace ${name}: ${result.stderr}`);
  }
  const manifest = objects.map((o) => stringify(o)).join('---\n');
  return runCommand(kubectlPath, [...kubeconfigArgs, 'apply', '--dry-run=server', '--validate=strict', '-f', '-'], manifest);
}
