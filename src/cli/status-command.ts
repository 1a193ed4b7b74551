// `prescale status [-n NS | -A] [-o json]`: the PredictiveScalers with their replicas, model, lead
// time, unhealthy conditions and a sparkline of the forecast, read with the caller's kubeconfig.
import type { KubeConfig } from '@kubernetes/client-node';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../api/units.js';
import { loadKubeConfig } from './kubeconfig.js';
import { duration, wholeNumber } from './options.js';
import { formatJson, formatTable, noScalersMessage } from './status.js';
import { readStatusRows } from './status-source.js';

/** A namespace name (RFC 1123 label). */
const namespaceName = (value: string) => {
  if (value.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
    throw new InvalidArgumentError('must be a namespace name: lowercase letters, digits and "-", at most 63 characters');
  }
  return value;
};

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description('list PredictiveScalers: target, mode, current/desired/Ready replicas, model, lead time, unhealthy conditions and a sparkline of the forecast')
    .option('-n, --namespace <ns>', "namespace to list (default: the current context's namespace)", namespaceName)
    .option('-A, --all-namespaces', 'list the scalers of every namespace', false)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .addOption(new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table'))
    .option('--chunk-size <n>', 'PredictiveScalers per list request (memory stays bounded by it)', wholeNumber(1), 50)
    .addOption(
      new Option('--request-timeout <duration>', 'give up when the API server has not answered everything by then')
        .argParser(duration('--request-timeout'))
        .default(parseDuration('30s'), '30s'),
    )
    .action(async (opts: { namespace?: string; allNamespaces: boolean; kubeconfig?: string; output: 'table' | 'json'; chunkSize: number; requestTimeout: number }) => {
      if (opts.namespace !== undefined && opts.allNamespaces) throw new Error('--namespace and --all-namespaces: pass one of them');
      const kc = loadKubeConfig(opts.kubeconfig);
      const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? currentNamespace(kc));
      const rows = await readStatusRows(kc, { namespace, pageSize: opts.chunkSize, signal: AbortSignal.timeout(opts.requestTimeout) });
      if (opts.output === 'json') process.stdout.write(formatJson(rows));
      else if (rows.length === 0) process.stdout.write(noScalersMessage(namespace));
      else process.stdout.write(formatTable(rows, { allNamespaces: namespace === undefined, color: useColor(process.stdout, process.env) }));
    });
}

/** The current context's namespace, as kubectl uses it. */
function currentNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}
