// `prescale run`: builds the operator from its parts and runs it until told to stop.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { Controller, scalerInformer } from '../controller/controller.js';
import { HistoryCache } from '../controller/history-cache.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ModelManager } from '../controller/models.js';
import { PlanManager } from '../controller/plans.js';
import { WorkerPoolTrainer } from '../controller/training/worker-pool.js';
import { selectBackend } from '../forecast/tf/backend.js';
import { ConfigMapModelStore } from '../kube/model-store.js';
import { SecretSigningKey } from '../kube/model-signing-key.js';
import { kubeSecretReader, PrometheusProvider } from '../controller/prometheus-provider.js';
import { Reconciler } from '../controller/reconciler.js';
import { KubeEventRecorder } from '../kube/events.js';
import { HpaInformerIndex } from '../kube/hpa-index.js';
import { LeaderElector } from '../kube/leader-election.js';
import { PodStartupInformer } from '../kube/pod-startups.js';
import { KubeScaleClient } from '../kube/scale.js';
import { KubeStatusWriter } from '../kube/status-writer.js';
import type { Logger } from '../observability/logger.js';
import { createOperatorMetrics } from '../observability/metrics.js';
import { guardUnhandledRejections } from '../observability/process-guard.js';
import { secureMetrics } from '../observability/secure-metrics.js';
import { startHttpServers, type BoundAddress, type HttpServers } from '../observability/server.js';
import { readyPodCounter } from '../ui/ready-pods.js';
import { TimelineRecorder } from '../ui/recorder.js';
import { startWebView, type WebViewServer } from '../ui/server.js';
import { Timeline } from '../ui/timeline.js';
import { checkApiServer, displayServer } from '../kube/api-server-check.js';
import { startPublishing, type Publishing } from '../publish/publishing.js';
import { informersReadiness, waitForInformers } from '../kube/informer-sync.js';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /**
   * The API server must answer and every informer must have listed within this long, or start
   * fails with the reason. Default 30 s.
   */
  startupTimeoutMs?: number;
  logger: Logger;
  namespace?: string;
  prometheusUrl?: string;
  /** URL prefixes spec.prometheus.url may name; default: prometheusUrl alone. */
  prometheusUrlAllowlist?: string[];
  /** Honour spec.prometheus.authSecretRef (Secrets labelled for it only). Default false. */
  prometheusAuthSecrets?: boolean;
  /** Inject `<label>="<scaler's namespace>"` into every selector of every query. */
  enforceNamespaceLabel?: string;
  /** How long one reconcile may wait for Prometheus in all. Default 30 s. */
  reconcileTimeoutMs?: number;
  metricsBindAddress: string;
  /** Serve /metrics over HTTPS to authenticated, authorized clients only (TokenReview + SubjectAccessReview). */
  metricsSecure?: boolean;
  /** tls.crt and tls.key for metricsSecure; a self-signed certificate is made at start without it. */
  metricsCertDir?: string;
  healthProbeBindAddress: string;
  /** mode: Publish to KEDA: where the gRPC external scaler listens; "0" or none: off. */
  externalScalerBindAddress?: string;
  /** tls.crt and tls.key (and ca.crt to require client certificates) for the external scaler; none: plain text. */
  externalScalerCertDir?: string;
  /** mode: Publish to the HPA: where the external metrics API (external.metrics.k8s.io) listens, over HTTPS; "0" or none: off. */
  externalMetricsBindAddress?: string;
  /** tls.crt and tls.key for the external metrics API; none: a self-signed certificate made at start. */
  externalMetricsCertDir?: string;
  /** Where the read-only web view listens; "0" or none: off. */
  uiBindAddress?: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  concurrency: number;
  /** Worker threads that train models; each trains one at a time. */
  trainingWorkers: number;
  /** A training still running after this long is abandoned; the previous model keeps serving. */
  trainingTimeoutMs: number;
  /** The compiled training worker (default: the one beside the operator's own modules). */
  trainingWorkerScript?: URL | string;
  /** Keep trained models in a ConfigMap per scaler so a restart does not start cold. Default true. */
  persistModels?: boolean;
  /** The Secret holding the HMAC key of saved models, in the operator's own namespace; created if missing. */
  modelSigningSecret?: { namespace: string; name: string };
  /**
   * Watch pods to learn `leadTime: Auto` from their start-up times. Default true; false (--no-learn-lead-time)
   * starts no pod informer, so the operator needs no rights on pods, and Auto uses the default lead time.
   */
  learnLeadTime?: boolean;
  /** Reported in saved models, to tell which version wrote them. */
  version: string;
  /** Lease timings; defaults are client-go's (15 s, 10 s, 2 s). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => number;
}

export interface RunningOperator {
  servers: HttpServers;
  /** Where the publishing endpoints listen (undefined: off). */
  publishing: { keda?: BoundAddress; externalMetrics?: BoundAddress };
  webView: WebViewServer;
  isLeader(): boolean;
  /** Graceful stop: finish in-flight reconciles, release the lease, close servers. */
  stop(): Promise<void>;
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const now = o.now ?? Date.now;
  // Start-up deadlines run on the real clock: o.now may be a test's simulated one.
  const startupTimeoutMs = o.startupTimeoutMs ?? 30_000;
  const startupDeadline = Date.now() + startupTimeoutMs;
  const apiServer = displayServer(o.kubeConfig.getCurrentCluster()?.server ?? '');
  const kubernetesVersion = await checkApiServer(o.kubeConfig, { timeoutMs: startupTimeoutMs });
  const registry = new Registry();
  const log = o.logger;
  // Restored and trained LSTM models are run on this thread too; training happens in the workers.
  const backend = await selectBackend({ logger: log });
  const trainer = new WorkerPoolTrainer({ size: o.trainingWorkers, timeoutMs: o.trainingTimeoutMs, script: o.trainingWorkerScript, logger: log });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let controller: Controller | undefined;
  const models = new ModelManager({
    now,
    trainer,
    logger: log,
    onTrained: (model, seconds) => metrics.modelTrainingDuration.observe({ model }, seconds),
    // The metric's scaler is reconciled again as soon as its new model can serve.
    onTrainingSettled: (modelKey) => controller?.enqueue(modelKey.split('/').slice(0, 2).join('/')),
  });
  const metrics = createOperatorMetrics(registry, {
    training: () => models.trainingLoad(),
    eventLoopLagSeconds: () => {
      const p99 = loopDelay.percentile(99) / 1e9;
      loopDelay.reset();
      return p99;
    },
  });
  metrics.tfjsBackend.set({ backend: backend.name }, 1);
  // Replans run in the same workers as trainings, queued behind the statistical ones.
  const plans = new PlanManager({
    now,
    runner: trainer,
    logger: log,
    onPlanned: (seconds, outcome) => metrics.planDuration.observe({ outcome }, seconds),
    onSettled: (key) => controller?.enqueue(key),
  });
  const unguardRejections = guardUnhandledRejections({ target: process, logger: log, onRejection: () => metrics.unhandledRejections.inc() });
  const identity = `${hostname()}-${randomBytes(4).toString('hex')}`;

  const informer = scalerInformer(o.kubeConfig, log, o.namespace);
  const hpas = new HpaInformerIndex(o.kubeConfig, log, o.namespace);
  const podStartups = o.learnLeadTime === false ? undefined : new PodStartupInformer(o.kubeConfig, log, o.namespace);
  if (!podStartups) log.info('--no-learn-lead-time: pods are not watched; leadTime: Auto uses the default lead time');
  const uiOn = (o.uiBindAddress ?? '0').trim() !== '0';
  const timeline = new Timeline();
  const reconciler = new Reconciler({
    getScaler: (ns, name) => informer.cache.get(name, ns),
    scale: new KubeScaleClient(o.kubeConfig),
    status: new KubeStatusWriter(o.kubeConfig),
    events: new KubeEventRecorder(o.kubeConfig, identity, log, now),
    autoscalers: hpas,
    podStartups,
    prometheus: new PrometheusProvider({
      defaultUrl: o.prometheusUrl,
      allowlist: o.prometheusUrlAllowlist,
      authSecrets: o.prometheusAuthSecrets ?? false,
      readSecret: kubeSecretReader(o.kubeConfig),
      enforceNamespaceLabel: o.enforceNamespaceLabel,
      now,
      clientOptions: {
        onQuery: (seconds, outcome) => metrics.prometheusQueryDuration.observe({ outcome }, seconds),
      },
    }),
    prometheusDeadlineMs: o.reconcileTimeoutMs,
    models,
    plans,
    ...(o.persistModels === false
      ? {}
      : {
          modelStore: new ConfigMapModelStore(o.kubeConfig, {
            operatorVersion: o.version,
            signingKey: new SecretSigningKey(o.kubeConfig, o.modelSigningSecret ?? { namespace: 'prescale-system' }),
          }),
        }),
    history: new HistoryCache(),
    metrics,
    ...(uiOn ? { observer: new TimelineRecorder(timeline, podStartups && readyPodCounter(podStartups.informer.cache)) } : {}),
    logger: log,
    now,
  });
  controller = new Controller({ informer, reconciler, concurrency: o.concurrency, logger: log, metrics });

  const informers = [informer, hpas.informer, ...(podStartups ? [podStartups.informer] : [])];
  // Set when the leader-election loop died: the replica could never lead again, so it reports
  // itself unhealthy and the kubelet restarts it.
  let leaderElectionFailure: string | undefined;
  const webView = await startWebView({
    address: o.uiBindAddress ?? '0',
    timeline,
    listScalers: () => informer.cache.list(),
    getScaler: (ns, name) => informer.cache.get(name, ns),
    logger: log,
  });
  const servers = await startHttpServers({
    metricsAddress: o.metricsBindAddress,
    probeAddress: o.healthProbeBindAddress,
    registry,
    logger: log,
    secureMetrics: o.metricsSecure ? await secureMetrics(o.kubeConfig, o.metricsCertDir, log, now) : undefined,
    isHealthy: () => (leaderElectionFailure === undefined ? true : { reason: `leader election stopped: ${leaderElectionFailure}` }),
    isReady: () => informersReadiness(informers),
  });
  let publishing: Publishing;
  try {
    publishing = await startPublishing({
      kubeConfig: o.kubeConfig,
      scalers: { get: (name, namespace) => informer.cache.get(name, namespace), on: (verb, cb) => informer.on(verb, cb) },
      keda: { address: o.externalScalerBindAddress ?? '0', certDir: o.externalScalerCertDir },
      externalMetrics: { address: o.externalMetricsBindAddress ?? '0', certDir: o.externalMetricsCertDir },
      metrics,
      logger: log,
      now,
    });
  } catch (err) {
    await servers.close();
    await webView.close();
    throw err;
  }
  log.info(
    { metrics: servers.metrics, probes: servers.probes, externalScaler: publishing.keda, externalMetrics: publishing.externalMetrics, identity, namespace: o.namespace ?? '(all)', apiServer, kubernetesVersion },
    'prescale operator starting',
  );

  // What start-up opened, closed in reverse after a failed start or at the end of stop().
  const release = async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await models.close();
    loopDelay.disable();
    await servers.close();
    await webView.close();
    await publishing.close();
    unguardRejections();
  };
  try {
    // Not awaited: a first list that hangs must not outlast the deadline. start() never rejects.
    for (const i of informers) void i.start();
    await waitForInformers(informers, apiServer, Math.max(0, startupDeadline - Date.now()), startupTimeoutMs);
  } catch (err) {
    await release();
    throw err;
  }
  log.info({ informers: informers.map((i) => i.what) }, 'informer caches synced');

  let stopping = false;
  let elector: LeaderElector | undefined;
  let campaign: Promise<void> = Promise.resolve();
  if (o.leaderElect) {
    // One leadership term after another: a replica that loses the lease stops reconciling, waits for
    // its in-flight reconciles, and campaigns again, so it never acts alongside a new leader.
    campaign = (async () => {
      while (!stopping) {
        elector = new LeaderElector({
          api: o.kubeConfig.makeApiClient(CoordinationV1Api),
          namespace: o.leaderElectionNamespace,
          name: o.leaderElectionId,
          identity,
          leaseDurationMs: o.leaseDurationMs,
          renewDeadlineMs: o.renewDeadlineMs,
          retryPeriodMs: o.retryPeriodMs,
          logger: log,
        });
        await elector.run({
          onStartedLeading: () => {
            log.info({ identity }, 'became leader; reconciling');
            metrics.leader.set(1);
            controller.start();
          },
          onStoppedLeading: () => {
            metrics.leader.set(0);
            if (!stopping) log.error({ identity }, 'lost leadership; stopped reconciling until the lease is won again');
          },
        });
        await controller.stop();
      }
    })()
      .catch(async (err: unknown) => {
        leaderElectionFailure = (err as Error)?.message ?? String(err);
        metrics.leader.set(0);
        log.error({ err }, 'leader election failed; reporting unhealthy so the pod is restarted');
        await controller.stop();
      })
      .catch((err: unknown) => log.error({ err }, 'could not stop reconciling after leader election failed'));
  } else {
    metrics.leader.set(1);
    controller.start();
  }

  return {
    servers,
    publishing: { keda: publishing.keda, externalMetrics: publishing.externalMetrics },
    webView,
    isLeader: () => (elector ? elector.isLeader() : true),
    async stop() {
      stopping = true;
      log.info('shutting down: finishing in-flight reconciles');
      await controller.stop();
      await elector?.release();
      await campaign;
      await release();
      log.info('stopped');
    },
  };
}
