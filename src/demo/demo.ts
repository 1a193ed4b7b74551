// `prescale demo`: the whole product on loopback in one command. A KWOK cluster and Prometheus
// replaying a real trace (shifted so that its ramp arrives minutes from now), the CRD, deploy/'s
// RBAC and the examples applied, and the operator running as deploy/'s ServiceAccount with its web
// view on. Ctrl-C (or SIGTERM) tears it all down; the state file keeps a second demo out.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDuration } from '../api/units.js';
import { ensureClusterBinaries } from './binaries.js';
import { mintServiceAccountToken } from './env/control-plane.js';
import { startDemoEnvironment, type DemoEnvironment } from './environment.js';
import { spawnOperator, type OperatorChild } from './operator-child.js';
import { bindablePort } from './ports.js';
import { acquireState, type DemoState } from './state-file.js';
import { DemoTraceError, loadReplayTrace, planReplay, type TraceReplay } from './trace-replay.js';
import { clock, watchScalers, type ScaleWatch } from './watch.js';
import { demoWorkloads, type DemoWorkload } from './workloads.js';

export interface DemoOptions {
  repoRoot: string;
  /** CSV `timestamp,value`; default the bundled demo/traces/nyc-taxi.csv. */
  trace?: string;
  /** Trace time per wall time. */
  speed: number;
  /** Wall time from start until the ramp arrives. */
  rampInMs: number;
  /** Preferred web view port (127.0.0.1); another free one when taken; 0 = any. */
  uiPort: number;
  stateDir: string;
}

export interface DemoHost {
  pid: number;
  now: () => number;
  /** Progress and results, for the person watching. */
  print: (line: string) => void;
  onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** Leaves at once (a second Ctrl-C); the kernel stops the children, tied to this process. */
  exitNow: (code: number) => void;
}

export const BUNDLED_TRACE = join('demo', 'traces', 'nyc-taxi.csv');
export const OPERATOR_NAMESPACE = 'prescale-system';
export const OPERATOR_SERVICE_ACCOUNT = 'prescale';
/** The operator's token outlives any demo session. */
const TOKEN_SECONDS = 7 * 24 * 3600;

export class DemoError extends Error {}

/** Runs the demo until a signal; resolves with the process exit code once everything is torn down. */
export async function runDemo(options: DemoOptions, host: DemoHost): Promise<number> {
  const started = host.now();
  const progress = (line: string) => host.print(`demo: ${line}`);
  const lock = await acquireState(options.stateDir, host.pid);
  if (!lock.acquired) {
    host.print(alreadyRunning(lock.holder));
    return 1;
  }

  let stopSignal: NodeJS.Signals | undefined;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  const aborter = new AbortController();
  const removeSignalHandler = host.onSignal((signal) => {
    if (stopSignal) {
      host.print(`demo: ${signal} again: exiting now (the kernel stops every child process with the demo)`);
      host.exitNow(130);
    }
    stopSignal = signal;
    host.print(`\ndemo: ${signal}: tearing everything down (press Ctrl-C again to exit at once)`);
    aborter.abort();
    wake();
  });

  let env: DemoEnvironment | undefined;
  let operator: OperatorChild | undefined;
  let watch: ScaleWatch | undefined;
  let exitCode = 0;
  try {
    const tracePath = options.trace ?? join(options.repoRoot, BUNDLED_TRACE);
    const workloads = await demoWorkloads({ repoRoot: options.repoRoot, speed: options.speed });
    const historyTraceMs = Math.max(...workloads.map((w) => scalerHistoryMs(w))) * options.speed;
    const replay = planReplay(await loadReplayTrace(tracePath), { nowMs: started, rampInMs: options.rampInMs, historyTraceMs, speed: options.speed }, tracePath);
    describeReplay(replay, tracePath, options, progress);
    for (const w of workloads) for (const change of w.changes) progress(`${w.example}: ${change}`);

    progress('checking the Kubernetes binaries (the first run builds them from Go modules: about 15 minutes on 2 cores)');
    await ensureClusterBinaries(options.repoRoot, (line) => progress(`  ${line}`), aborter.signal);
    throwIfStopping(stopSignal);

    env = await startDemoEnvironment({ replay, workloads, now: host.now, historyWallMs: historyTraceMs / options.speed + 3_600_000, progress });
    throwIfStopping(stopSignal);

    const token = await mintServiceAccountToken(env.cluster.controlPlane.kubeConfig, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, TOKEN_SECONDS);
    const operatorKubeconfig = join(env.cluster.workDir, 'operator.kubeconfig');
    await writeFile(operatorKubeconfig, env.cluster.controlPlane.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
    const uiPort = await bindablePort(options.uiPort);
    if (options.uiPort !== 0 && uiPort !== options.uiPort) progress(`port ${options.uiPort} is taken: the web view uses ${uiPort}`);
    progress(`starting the operator as ${OPERATOR_NAMESPACE}/${OPERATOR_SERVICE_ACCOUNT} (its log: ${join(env.cluster.workDir, 'operator.log')})`);
    operator = spawnOperator(join(options.repoRoot, 'dist', 'cli', 'main.js'), [
      '--kubeconfig', operatorKubeconfig,
      '--prometheus-url', env.prometheus.url,
      '--metrics-bind-address', '127.0.0.1:0',
      '--health-probe-bind-address', '127.0.0.1:0',
      '--ui-bind-address', `127.0.0.1:${uiPort}`,
      // One worker per scaler: the model server's Ensemble does not queue the web service's fit.
      '--training-workers', String(workloads.length),
      '--log-level', 'info',
    ], join(env.cluster.workDir, 'operator.log'));
    await Promise.race([
      Promise.all([
        operator.waitForLog((l) => l.msg === 'serving the web view', 60_000),
        operator.waitForLog((l) => l.msg === 'informer caches synced', 60_000),
      ]),
      stopRequested,
    ]);
    throwIfStopping(stopSignal);

    const url = `http://127.0.0.1:${uiPort}/`;
    const state: Partial<DemoState> = {
      phase: 'ready',
      url,
      kubeconfig: env.cluster.kubeconfigPath,
      kubectlDir: env.cluster.binDir,
      prometheusUrl: env.prometheus.url,
      rampAt: new Date(replay.rampWallMs).toISOString(),
      speed: options.speed,
    };
    await lock.update(state);
    host.print(summary(state, env, replay, host.now() - started, host.now()));
    watch = watchScalers(env.cluster.controlPlane.kubeConfig, host.print, { rampWallMs: replay.rampWallMs, now: host.now });

    const outcome = await Promise.race([stopRequested.then(() => undefined), operator.exited]);
    if (outcome !== undefined) {
      host.print(`demo: the operator exited unexpectedly (${outcome}); its log ends:\n${operator.tail()}`);
      exitCode = 1;
    }
  } catch (err) {
    if (!stopSignal) {
      host.print(`demo: ${failureMessage(err)}`);
      exitCode = 1;
    }
  } finally {
    removeSignalHandler();
    watch?.stop();
    await lock.update({ phase: 'stopping' }).catch(() => undefined);
    if (operator) await operator.stop();
    if (env) await env.close();
    await lock.release();
    if (stopSignal || exitCode !== 0) host.print('demo: stopped; every process it started has exited');
  }
  return exitCode;
}

function throwIfStopping(signal: NodeJS.Signals | undefined): void {
  if (signal) throw new DemoError(`stopped by ${signal}`);
}

function scalerHistoryMs(workload: DemoWorkload): number {
  const scaler = workload.objects.find((o) => o.kind === 'PredictiveScaler') as { spec?: { forecast?: { history?: string } } } | undefined;
  const history = scaler?.spec?.forecast?.history;
  if (!history) throw new DemoError(`${workload.example}: its PredictiveScaler has no forecast.history`);
  return parseDuration(history);
}

function failureMessage(err: unknown): string {
  if (err instanceof DemoTraceError || err instanceof DemoError) return err.message;
  return (err as Error)?.stack ?? String(err);
}

function describeReplay(replay: TraceReplay, tracePath: string, options: DemoOptions, progress: (line: string) => void): void {
  const traceDay = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  progress(`trace ${tracePath}: the ramp at ${traceDay(replay.ramp.traceMs)} of the trace (level ${replay.ramp.fromLevel.toFixed(2)} -> ${replay.ramp.toLevel.toFixed(2)} of its p99 within an hour)`);
  progress(`it arrives at ${clock(replay.rampWallMs)} UTC, ${Math.round(options.rampInMs / 60_000)} min from now${options.speed === 1 ? '' : `; the trace plays ${options.speed}x faster than real time (pods still take their real start-up time)`}`);
}

export function alreadyRunning(holder: DemoState): string {
  const where = holder.url ? ` Its web view: ${holder.url}; kubeconfig: ${holder.kubeconfig}.` : ' It is still starting.';
  return `demo: another demo is running (pid ${holder.pid}, since ${holder.startedAt}).${where} Stop it first (Ctrl-C in its terminal, or prescale demo --stop).`;
}

function summary(state: Partial<DemoState>, env: DemoEnvironment, replay: TraceReplay, tookMs: number, nowMs: number): string {
  const inMinutes = Math.max(0, Math.round((replay.rampWallMs - nowMs) / 60_000));
  return [
    '',
    `prescale demo is up (${Math.round(tookMs / 1000)} s).`,
    '',
    `  web view     ${state.url}`,
    `  kubectl      export KUBECONFIG=${state.kubeconfig} PATH=${state.kubectlDir}:$PATH`,
    '               kubectl get pscaler,deploy -A',
    `  Prometheus   ${state.prometheusUrl}`,
    `  the ramp     arrives at ${clock(replay.rampWallMs)} UTC (in ${inMinutes} min)`,
    `  logs         ${env.cluster.workDir}/ (operator.log, kube-apiserver.log, ...)`,
    '',
    'Ctrl-C stops everything. Scaling decisions follow as they happen:',
    '',
  ].join('\n');
}
