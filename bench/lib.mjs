// What the bench scripts share: flags, the compiled CLI, a small job pool, medians and formatting.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = join(root, 'bench', 'results');

/** `--name value` from the command line, or the fallback. */
export function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

export const hasFlag = (name) => process.argv.slice(2).includes(name);

/**
 * The compiled tree the CLI runs from: dist/, or --dist DIR (a private build, so that a test run
 * rebuilding dist/ cannot change the code under a long bench).
 */
export const distDir = resolve(flag('--dist', join(root, 'dist')));

/** Runs the compiled `prescale` CLI with --json; resolves with its output, stderr and wall seconds. */
export async function prescale(argv, timeoutMs = 60 * 60_000) {
  const started = process.hrtime.bigint();
  const { stdout, stderr } = await run('node', [join(distDir, 'cli/main.js'), ...argv, '--json'], { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
  return { json: JSON.parse(stdout), stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Runs the tasks with at most `n` at once; resolves with their results in order. */
export async function pool(tasks, n) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

export function median(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `d` significant digits, or an em dash for a missing value. */
export const fmt = (x, d = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toPrecision(d)).toLocaleString('en-US', { maximumFractionDigits: 6 });

/** Capacity per replica used by every bench: the trace's 95th percentile / 10. */
export async function capacityOf(file) {
  const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
  const values = lines.map((l) => Number(l.split(',')[1])).filter(Number.isFinite).sort((a, b) => a - b);
  return values[Math.floor(0.95 * (values.length - 1))] / 10;
}

/**
 * The time a trace spans, in ms (last timestamp - first), what a simulation's cost grows with; 0 when
 * the timestamps do not parse.
 */
export async function spanOf(file) {
  const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
  const time = (line) => {
    const t = (line ?? '').split(',')[0].trim();
    return /^\d+(\.\d+)?$/.test(t) ? Number(t) * (Number(t) < 1e11 ? 1000 : 1) : Date.parse(t);
  };
  const span = time(lines.at(-1)) - time(lines[0]);
  return Number.isFinite(span) && span > 0 ? span : 0;
}

export const AUTO_POLICY = 'prescale@auto';

/** A run of the quantile sweep (prescale@q0.9), not prescale@auto. */
export const isQuantileRun = (name) => name.startsWith('prescale@q');

/**
 * The hindsight-best point of a simulate run: the quantile run with the lowest underRatioAtEqualCost,
 * chosen after seeing the whole trace (prescale@auto is not a candidate), or null.
 */
export function bestQuantilePoint(sim) {
  const pts = (sim?.summary ?? []).filter((s) => isQuantileRun(s.policy) && s.underRatioAtEqualCost !== null);
  return pts.length === 0 ? null : pts.reduce((a, b) => (b.underRatioAtEqualCost < a.underRatioAtEqualCost ? b : a));
}

/** The best (lowest) underRatioAtEqualCost of the quantile runs of a simulate run (hindsight), or null. */
export function bestUnderRatio(sim) {
  return bestQuantilePoint(sim)?.underRatioAtEqualCost ?? null;
}

/**
 * prescale@auto in a simulate run: its summary point, result, plans, whether it met its objective, and
 * its scale events against those of the HPA run closest in replica-minutes; null when it did not run.
 */
export function autoPoint(sim) {
  const result = sim?.policies?.find((p) => p.name === AUTO_POLICY);
  if (!result) return null;
  const summary = sim.summary.find((s) => s.policy === AUTO_POLICY) ?? { underRatioAtEqualCost: null, costRatioAtEqualUnder: null };
  const hpa = sim.policies.filter((p) => p.name.startsWith('hpa@'));
  const gap = (p) => Math.abs(p.replicaMinutes - result.replicaMinutes);
  const closest = sim.auto?.hpaClosestInCost ?? (hpa.length > 0 ? hpa.reduce((a, b) => (gap(b) < gap(a) ? b : a)) : null);
  const objective = sim.auto?.objective ?? 0.005;
  return {
    result,
    underRatioAtEqualCost: summary.underRatioAtEqualCost,
    costRatioAtEqualUnder: summary.costRatioAtEqualUnder,
    objective,
    objectiveMet: sim.auto?.objectiveMet ?? result.underProvisionedFraction <= objective + 1e-12,
    plans: sim.auto?.plans ?? [],
    hpaClosest: closest ? { policy: closest.policy ?? closest.name, replicaMinutes: closest.replicaMinutes, scaleEvents: closest.scaleEvents } : null,
    scaleEventsRatio: closest && closest.scaleEvents > 0 ? result.scaleEvents / closest.scaleEvents : null,
  };
}
