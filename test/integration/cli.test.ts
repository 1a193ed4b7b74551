// The compiled `prescale` command as a user runs it: forecast against a real Prometheus, version,
// help, and one-line errors with a non-zero exit.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, MIN, dailyPlateau, minutePoints } from '../helpers/history.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { readState } from '../../src/demo/state-file.js';

const run = promisify(execFile);
const CLI = 'dist/cli/main.js';
let prom: PrometheusHandle;
let dir: string;
const now = Date.now();
const demand = dailyPlateau(now + 3 * MIN, 100, 1000);

async function prescale(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const manifest = (query: string) => `
apiVersion: autoscaling.prescale.dev/v1alpha1
kind: PredictiveScaler
metadata: {name: checkout, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  minReplicas: 2
  maxReplicas: 60
  metrics:
  - {name: rps, query: '${query}', targetPerReplica: "50"}
  forecast: {model: HoltWinters, history: 3d, step: 1m, horizon: 30m, seasonality: Auto, quantile: 0.9}
  scaling: {leadTime: 5m, headroom: "10%"}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-cli-'));
  // dist/ is compiled by test/global-setup.ts.
  prom = await startPrometheus({ series: [{ name: 'demand', labels: { app: 'web' }, points: minutePoints(now - 3 * DAY, now - MIN, demand) }] });
  await writeFile(join(dir, 'scaler.yaml'), manifest('sum(demand{app="web"})'));
  await writeFile(join(dir, 'bad.yaml'), manifest('sum(rate(demand[1m]'));
  // With an objective, quantile and headroom are Auto: the plan is made on the history just queried.
  await writeFile(
    join(dir, 'objective.yaml'),
    manifest('sum(demand{app="web"})')
      .replace('seasonality: Auto, quantile: 0.9}', "seasonality: ['1d']}")
      .replace('scaling: {leadTime: 5m, headroom: "10%"}', 'scaling: {leadTime: 5m, objective: {maxUnderProvisioned: "1%"}}'),
  );
}, 180_000);

afterAll(async () => {
  await prom?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('prescale command line', () => {
  it('forecast --json predicts the coming ramp and says what it would do', async () => {
    const r = await prescale('forecast', '-f', join(dir, 'scaler.yaml'), '--prometheus-url', prom.url, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.scaler).toBe('shop/checkout');
    expect(out.currentReplicas).toBe(2);
    // 1000 / 50 * 1.1 = 22 at the forecast's planning quantile, well above today's 100 / 50 = 2.
    expect(out.decision.desiredReplicas).toBeGreaterThanOrEqual(22);
    expect(out.decision.reason).toBe('ScaleUp');
    expect(out.models[0]).toMatchObject({ metric: 'rps', model: 'HoltWinters' });
    expect(out.models[0].details.seasonMs).toBe(DAY);
    expect(out.forecast.peak).toBeGreaterThan(800);
  });

  it('forecast prints a readable explanation', async () => {
    const r = await prescale('forecast', '-f', join(dir, 'scaler.yaml'), '--prometheus-url', prom.url, '--current-replicas', '5');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^replicas: 5 -> \d+ \(ScaleUp\)$/m);
    expect(r.stdout).toMatch(/^why: +rps forecast p90 peak/m);
  });

  it('forecast with an objective prints the plan it would act on and the HPA beside it', async () => {
    const r = await prescale('forecast', '-f', join(dir, 'objective.yaml'), '--prometheus-url', prom.url);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^plan: +q0\.\d+ \+\d+% \(objective 1% under-provisioned: (met|NOT met) in simulation over (2d23h\d+m|3d), \d+ minutes scored, 24 plans\)$/m);
    expect(r.stdout).toMatch(/^ {2}prescale: +under-provisioned [\d.]+%, replica-minutes [\d.]+x oracle, \d+ scale events$/m);
    expect(r.stdout).toMatch(/^ {2}HPA: +under-provisioned [\d.]+%/m);
    const json = JSON.parse((await prescale('forecast', '-f', join(dir, 'objective.yaml'), '--prometheus-url', prom.url, '--json')).stdout);
    expect(json.plan).toMatchObject({ objective: '1%', plans: 24 });
    // The decision acts on the plan's quantile.
    expect(json.decision.message).toMatch(new RegExp(`forecast p${Math.round(json.plan.quantile * 100)} peak`));
  }, 120_000);

  it('errors are one line on stderr with a non-zero exit', async () => {
    const bad = await prescale('forecast', '-f', join(dir, 'bad.yaml'), '--prometheus-url', prom.url);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^prescale: error: Prometheus rejected the query: .*parse error/);

    const missing = await prescale('forecast', '-f', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^prescale: error: .*nope\.yaml/);

    const noUrl = await prescale('forecast', '-f', join(dir, 'scaler.yaml'));
    expect(noUrl.stderr).toMatch(/no Prometheus URL: pass --prometheus-url/);
  });

  it('simulate --json and --report on a real trace', async () => {
    const trace = '../shared/data/traces/dev/alibaba-2018-cluster-cpu.csv';
    const report = join(dir, 'simulate.html');
    const r = await prescale('simulate', '--trace', trace, '--capacity-per-replica', '5', '--model', 'holt-winters', '--quantiles', '0.5,0.9', '--hpa-targets', '1,0.7', '--json', '--report', report);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['trace', 'evaluatedMinutes', 'capacityPerReplica', 'startupDelaySeconds', 'policies', 'summary', 'auto']);
    expect(out.trace).toBe('alibaba-2018-cluster-cpu.csv');
    expect(out.startupDelaySeconds).toBe(120);
    // prescale@auto is in the default policy set: one run planning to the default objective.
    expect(out.policies.map((p: { name: string }) => p.name)).toEqual(['prescale@q0.5', 'prescale@q0.9', 'prescale@auto', 'hpa@1', 'hpa@0.7', 'oracle']);
    expect(out.auto).toMatchObject({ policy: 'prescale@auto', objective: 0.005, objectiveMet: expect.any(Boolean) });
    expect(out.auto.plans.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^note: prescale@auto: \d+ plans from /m);
    expect(Object.keys(out.summary[0])).toEqual(['policy', 'underRatioAtEqualCost', 'costRatioAtEqualUnder']);
    const html = await readFile(report, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    // The trace's gap is reported on stderr, not hidden; stdout stays one JSON object.
    expect(r.stderr).toMatch(/^note: 1 gap in the trace \(\d+ missing 5m steps, longest 5h/m);
  }, 120_000);

  it('simulate --startup-delay 2m,10m prints one result per delay, each as a run at that delay alone gives it', async () => {
    const args = ['simulate', '--trace', '../shared/data/traces/dev/alibaba-2018-cluster-cpu.csv', '--capacity-per-replica', '5', '--model', 'holt-winters', '--quantiles', '0.9', '--hpa-targets', '1,0.7', '--json'];
    const both = await prescale(...args, '--startup-delay', '2m,10m');
    expect(both.code).toBe(0);
    const outs = JSON.parse(both.stdout);
    expect(outs.map((o: { startupDelaySeconds: number }) => o.startupDelaySeconds)).toEqual([120, 600]);
    const alone = JSON.parse((await prescale(...args, '--startup-delay', '10m')).stdout);
    expect(outs[1]).toEqual(alone);
    expect(both.stderr).toMatch(/^note: start-up 2m: prescale@auto: /m);
    expect(both.stderr).toMatch(/^note: start-up 10m: prescale@auto: /m);
    const text = await prescale(...args.filter((a) => a !== '--json'), '--policies', 'prescale,hpa', '--startup-delay', '2m,10m');
    expect(text.stdout.match(/^trace alibaba-2018-cluster-cpu\.csv: .* start-up (\d+)s$/gm)?.map((l) => l.split(' ').pop())).toEqual(['120s', '600s']);
    const withReport = await prescale(...args, '--startup-delay', '2m,10m', '--report', join(dir, 'x.html'));
    expect(withReport.code).toBe(1);
    expect(withReport.stderr).toMatch(/^prescale: error: --report shows one start-up delay/);
    const badDelay = await prescale(...args, '--startup-delay', '2m,soon');
    expect(badDelay.stderr).toMatch(/--startup-delay/);
  }, 180_000);

  it('backtest --json and --report on a real trace', async () => {
    const report = join(dir, 'backtest.html');
    const r = await prescale('backtest', '--trace', '../shared/data/traces/dev/nab-nyc-taxi.csv', '--horizon', '2h', '--folds', '12', '--json', '--report', report);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['trace', 'horizon', 'interval', 'quantile', 'models']);
    expect(out.horizon).toBe('2h');
    expect(out.models.map((m: { name: string }) => m.name)).toEqual(['seasonal-naive', 'holt-winters', 'linear']);
    for (const m of out.models) expect(Object.keys(m)).toEqual(['name', 'mase', 'smape', 'coverage', 'fitSeconds', 'predictMillis', 'windows']);
    // The decision-window scores at the default lead times: 2m and 10m.
    for (const m of out.models) expect(m.windows.map((w: { lead: string }) => w.lead)).toEqual(['2m', '10m']);
    expect((await readFile(report, 'utf8')).includes('<svg')).toBe(true);
  }, 120_000);

  it('shows progress on stderr only when stderr is a terminal', async () => {
    const args = ['simulate', '--trace', '../shared/data/traces/dev/alibaba-2018-cluster-cpu.csv', '--capacity-per-replica', '5', '--model', 'holt-winters', '--quantiles', '0.9', '--hpa-targets', '0.8', '--policies', 'prescale,hpa,oracle', '--json'];
    // util-linux's script(1) runs the command on a pseudo-terminal.
    const { stdout: tty } = await run('script', ['-qfec', ['node', CLI, ...args].join(' '), '/dev/null'], { timeout: 60_000 });
    expect(tty).toMatch(/simulating alibaba-2018-cluster-cpu\.csv \d+%/);
    expect(tty).toMatch(/simulating alibaba-2018-cluster-cpu\.csv 100%/);
    const piped = await prescale(...args);
    expect(piped.stderr).not.toMatch(/simulating/);
    expect(JSON.parse(piped.stdout).policies).toHaveLength(3);
  }, 120_000);

  it('evaluation commands explain bad input in one line', async () => {
    const noTrace = await prescale('simulate', '--trace', join(dir, 'none.csv'), '--capacity-per-replica', '1');
    expect(noTrace.code).toBe(1);
    expect(noTrace.stderr).toMatch(/^prescale: error: .*none\.csv/);
    const badQ = await prescale('simulate', '--trace', 'x.csv', '--capacity-per-replica', '1', '--quantiles', '0.5,1.5');
    expect(badQ.code).toBe(1);
    expect(badQ.stderr).toMatch(/--quantiles.*numbers in \(0, 1\)/);
    const badModel = await prescale('backtest', '--trace', '../shared/data/traces/dev/nab-nyc-taxi.csv', '--models', 'arima');
    expect(badModel.stderr).toMatch(/unknown model "arima"/);
  });

  it('version and --help', async () => {
    const v = await prescale('version');
    expect(v.stdout).toMatch(/^prescale \d+\.\d+\.\d+\n$/);
    for (const cmd of ['run', 'status', 'forecast', 'backtest', 'simulate', 'demo', 'version']) {
      const h = await prescale(cmd, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`Usage: prescale ${cmd}`));
    }
    const run = await prescale('run', '--help');
    for (const flag of [
      '--kubeconfig', '--namespace', '--prometheus-url', '--metrics-bind-address', '--health-probe-bind-address', '--leader-elect', '--concurrency', '--log-level',
      '--prometheus-url-allowlist', '--prometheus-auth-secrets', '--enforce-namespace-label', '--reconcile-timeout', '--metrics-secure', '--metrics-cert-dir',
      '--model-signing-secret', '--no-learn-lead-time', '--startup-timeout', '--ui-bind-address',
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('demo: --help lists its flags; a bad flag or trace is one line and a non-zero exit, and starts nothing', async () => {
    const help = await prescale('demo', '--help');
    for (const flag of ['--trace', '--speed', '--ramp-in', '--ui-port', '--keep', '--stop', '--state-dir']) expect(help.stdout).toContain(flag);
    const stateDir = await mkdtemp(join(tmpdir(), 'prescale-demo-cli-'));
    try {
      const fast = await prescale('demo', '--speed', '50', '--state-dir', stateDir);
      expect(fast.code).not.toBe(0);
      expect(fast.stderr).toMatch(/--speed.*from 1 to 20/);
      const noTrace = await prescale('demo', '--trace', join(stateDir, 'missing.csv'), '--state-dir', stateDir);
      expect(noTrace.code).toBe(1);
      expect(noTrace.stderr).toContain('missing.csv');
      expect(noTrace.stderr).not.toMatch(/starting etcd/);
      const flat = join(stateDir, 'flat.csv');
      await writeFile(flat, `timestamp,value\n${Array.from({ length: 24 * 30 }, (_, i) => `${new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString()},5`).join('\n')}\n`);
      const noRamp = await prescale('demo', '--trace', flat, '--state-dir', stateDir);
      expect(noRamp.code).toBe(1);
      expect(noRamp.stderr).toMatch(/no ramp/);
      // Each failed demo released its state: nothing is recorded as running.
      expect(await readState(stateDir)).toBeUndefined();
      const stop = await prescale('demo', '--stop', '--state-dir', stateDir);
      expect([stop.code, stop.stderr.trim()]).toEqual([0, 'demo: no demo is running']);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
