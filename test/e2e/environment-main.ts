// The end-to-end environment by hand (hack/e2e-env.sh compiles and runs this): the cluster with fake
// nodes, Prometheus with three days of history and the live trace exporter, and the CRD applied.
// Prints how to use them, and tears everything down on Ctrl-C (SIGINT) or SIGTERM.
import { resolve } from 'node:path';
import { MIN } from '../helpers/history.js';
import { WORKLOAD_MANIFEST, spikeScenario, startSpikeEnvironment } from './spike-environment.js';

async function main(): Promise<void> {
  const rampInMinutes = Number(process.env.PRESCALE_E2E_RAMP_IN_MINUTES ?? '5');
  if (!(rampInMinutes > 0)) throw new Error(`PRESCALE_E2E_RAMP_IN_MINUTES must be a positive number, got "${process.env.PRESCALE_E2E_RAMP_IN_MINUTES}"`);
  const scenario = spikeScenario(Date.now(), rampInMinutes * MIN);
  process.stderr.write('starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK, Prometheus and the trace exporter...\n');
  const env = await startSpikeEnvironment(scenario);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`\n${signal}: tearing down...\n`);
    env.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`teardown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const kubeconfig = env.cluster.kubeconfigPath;
  const manifest = resolve(WORKLOAD_MANIFEST);
  process.stdout.write(
    [
      '',
      `kubeconfig:      ${kubeconfig}`,
      `kubectl:         ${env.cluster.kubectlPath}`,
      `Prometheus:      ${env.prometheus.url}   (demand{app="web"}: 3 days of history + live samples)`,
      `exporter:        ${env.exporter.url}`,
      `next ramp:       ${new Date(scenario.rampStart).toISOString()} (demand 100 -> 1000 for an hour, daily)`,
      `component logs:  ${env.cluster.workDir}`,
      '',
      'Try it (the CRD is installed; nodes are KWOK fakes, pods turn Ready 60-90 s after they start):',
      `  export KUBECONFIG=${kubeconfig} PATH=${env.cluster.binDir}:$PATH`,
      '  kubectl apply -k deploy/            # namespace, ServiceAccount, RBAC (the operator pod is a fake)',
      `  kubectl apply -f ${manifest}`,
      `  npm run build && node dist/cli/main.js run --kubeconfig "$KUBECONFIG" --prometheus-url ${env.prometheus.url} --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0`,
      '  kubectl get pscaler,deploy -n shop -w',
      '',
      'Ctrl-C tears everything down.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`e2e environment failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
