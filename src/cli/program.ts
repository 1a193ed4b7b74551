// The prescale command line (SPEC section 5).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createLogger, isLogLevel } from '../observability/logger.js';
import { exitOnUncaughtException } from '../observability/process-guard.js';
import { startOperator } from '../operator/operator.js';
import { PrometheusClient } from '../prometheus/client.js';
import { addEvaluationCommands } from './evaluate-commands.js';
import { addDemoCommand } from './demo-command.js';
import { addStatusCommand } from './status-command.js';
import { loadKubeConfig } from './kubeconfig.js';
import { formatOneShot, forecastOnce, readScalerManifest } from './one-shot.js';
import { duration, labelName, urlList, wholeNumber } from './options.js';
import { selectBackend } from '../forecast/tf/backend.js';
import { parseDuration } from '../api/units.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('prescale')
    .description('Scales Kubernetes workloads before demand arrives, from Prometheus history and forecasts')
    .version(packageVersion(), '--version', 'print the version')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description('run the operator: watch PredictiveScalers, forecast and scale their targets')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--namespace <ns>', 'watch only this namespace (default: all)')
    .option('--prometheus-url <url>', 'Prometheus used when a scaler does not name its own')
    .option('--prometheus-url-allowlist <prefixes>', 'comma-separated URL prefixes spec.prometheus.url may name (default: only --prometheus-url)', urlList)
    .option('--prometheus-auth-secrets', 'use spec.prometheus.authSecretRef Secrets (only those labelled autoscaling.prescale.dev/prometheus-auth=true); needs get on secrets', false)
    .option('--enforce-namespace-label <label>', 'give every selector of every query <label>="<scaler namespace>", so a tenant reads only its own series', labelName)
    .option('--startup-timeout <duration>', 'exit with the reason if the API server does not answer, or a watched resource cannot be listed, within this long', duration('--startup-timeout'), parseDuration('30s'))
    .option('--reconcile-timeout <duration>', 'how long one reconcile may wait for Prometheus in all', duration('--reconcile-timeout'), parseDuration('30s'))
    .option('--metrics-bind-address <addr>', 'where /metrics listens ("0" disables)', ':8080')
    .option('--metrics-secure', 'serve /metrics over HTTPS, only to clients whose bearer token passes a TokenReview and a SubjectAccessReview (get /metrics)', false)
    .option('--metrics-cert-dir <dir>', 'tls.crt and tls.key for --metrics-secure (default: a self-signed certificate made at start)')
    .option('--health-probe-bind-address <addr>', 'where /healthz and /readyz listen ("0" disables)', ':8081')
    .option('--ui-bind-address <addr>', 'where the read-only web view of every scaler listens, e.g. 127.0.0.1:8082 ("0" disables; it shows every watched scaler to whoever reaches it)', '0')
    .option('--external-scaler-bind-address <addr>', 'mode: Publish: where the KEDA external scaler (gRPC) listens, e.g. :9100 ("0" disables)', '0')
    .option('--external-scaler-cert-dir <dir>', 'tls.crt and tls.key for the external scaler, and ca.crt to require KEDA\'s client certificate (default: plain text)')
    .option('--external-metrics-bind-address <addr>', 'mode: Publish: where the external metrics API (external.metrics.k8s.io, for an HPA) listens over HTTPS, e.g. :6443 ("0" disables)', '0')
    .option('--external-metrics-cert-dir <dir>', 'tls.crt and tls.key for the external metrics API (default: a self-signed certificate made at start)')
    .option('--leader-elect', 'elect a leader on a Lease so only one replica acts', false)
    .option('--leader-election-namespace <ns>', 'namespace of the leader Lease (default: $POD_NAMESPACE or prescale-system)')
    .option('--leader-election-id <name>', 'name of the leader Lease', 'prescale-operator')
    .option('--leader-election-lease-duration <duration>', 'how long a leader holds the Lease without renewing it', duration('--leader-election-lease-duration'), parseDuration('15s'))
    .option('--leader-election-renew-deadline <duration>', 'how long the leader keeps trying to renew before it gives up leading', duration('--leader-election-renew-deadline'), parseDuration('10s'))
    .option('--leader-election-retry-period <duration>', 'how often candidates try to acquire or renew the Lease', duration('--leader-election-retry-period'), parseDuration('2s'))
    .option('--concurrency <n>', 'scalers reconciled at once', wholeNumber(1), 4)
    .option('--training-workers <n>', 'worker threads that train models (each trains one model at a time)', wholeNumber(1), 1)
    .option('--training-timeout <duration>', 'abandon a training that runs longer; the previous model keeps serving', duration('--training-timeout'), parseDuration('10m'))
    .option('--no-persist-models', 'keep trained models in memory only (default: a ConfigMap per scaler)')
    .option('--model-signing-secret <name>', 'Secret in the operator\'s namespace ($POD_NAMESPACE) holding the HMAC key of saved models; created if missing', 'prescale-model-signing-key')
    .option('--no-learn-lead-time', 'do not watch pods to learn leadTime: Auto (it then uses the 2m default; the operator needs no rights on pods)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info')
    .action(async (opts) => {
      if (!isLogLevel(opts.logLevel)) throw new Error(`--log-level: unknown level "${opts.logLevel}"`);
      const logger = createLogger({ level: opts.logLevel });
      exitOnUncaughtException({ target: process, logger, exit: (code) => process.exit(code) });
      if (opts.metricsCertDir !== undefined && !opts.metricsSecure) throw new Error('--metrics-cert-dir: only used with --metrics-secure');
      const kubeConfig = loadKubeConfig(opts.kubeconfig);
      const operator = await startOperator({
        kubeConfig,
        startupTimeoutMs: opts.startupTimeout,
        logger,
        namespace: opts.namespace,
        prometheusUrl: opts.prometheusUrl,
        prometheusUrlAllowlist: opts.prometheusUrlAllowlist,
        prometheusAuthSecrets: opts.prometheusAuthSecrets,
        enforceNamespaceLabel: opts.enforceNamespaceLabel,
        reconcileTimeoutMs: opts.reconcileTimeout,
        metricsBindAddress: opts.metricsBindAddress,
        metricsSecure: opts.metricsSecure,
        metricsCertDir: opts.metricsCertDir,
        healthProbeBindAddress: opts.healthProbeBindAddress,
        uiBindAddress: opts.uiBindAddress,
        externalScalerBindAddress: opts.externalScalerBindAddress,
        externalScalerCertDir: opts.externalScalerCertDir,
        externalMetricsBindAddress: opts.externalMetricsBindAddress,
        externalMetricsCertDir: opts.externalMetricsCertDir,
        leaderElect: opts.leaderElect,
        leaderElectionNamespace: opts.leaderElectionNamespace ?? process.env.POD_NAMESPACE ?? 'prescale-system',
        leaderElectionId: opts.leaderElectionId,
        leaseDurationMs: opts.leaderElectionLeaseDuration,
        renewDeadlineMs: opts.leaderElectionRenewDeadline,
        retryPeriodMs: opts.leaderElectionRetryPeriod,
        concurrency: opts.concurrency,
        trainingWorkers: opts.trainingWorkers,
        trainingTimeoutMs: opts.trainingTimeout,
        persistModels: opts.persistModels,
        modelSigningSecret: { namespace: process.env.POD_NAMESPACE ?? 'prescale-system', name: opts.modelSigningSecret },
        learnLeadTime: opts.learnLeadTime,
        version: packageVersion(),
      });
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'signal received');
        operator.stop().then(
          () => process.exit(0),
          (err: Error) => {
            logger.error({ err: err.message }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    });

  program
    .command('forecast')
    .description('forecast and decide once for a PredictiveScaler manifest, against a live Prometheus')
    .requiredOption('-f, --file <scaler.yaml>', 'the PredictiveScaler manifest')
    .option('--prometheus-url <url>', 'Prometheus to query (default: the manifest\'s spec.prometheus.url)')
    .option('--current-replicas <n>', 'the target\'s current replicas (default: minReplicas)', wholeNumber(0))
    .option('--json', 'print the result as JSON', false)
    .action(async (opts) => {
      const scaler = await readScalerManifest(opts.file);
      await selectBackend();
      const url = opts.prometheusUrl ?? scaler.spec.prometheus?.url;
      if (!url) throw new Error('no Prometheus URL: pass --prometheus-url or set spec.prometheus.url');
      const result = await forecastOnce(scaler, new PrometheusClient({ baseUrl: url }), {
        now: Date.now(),
        currentReplicas: opts.currentReplicas,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatOneShot(result)}\n`);
    });

  addEvaluationCommands(program);
  addStatusCommand(program);
  addDemoCommand(program);

  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`prescale ${packageVersion()}\n`);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code?.startsWith('commander.')) {
      // commander printed its own message (help, version, usage errors)
      process.exit(e.exitCode ?? 1);
    }
    process.stderr.write(`prescale: error: ${e.message ?? String(err)}\n`);
    process.exit(1);
  }
}


