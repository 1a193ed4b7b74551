import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addEvaluationCommands, formatBacktestTable, MAX_BACKTEST_LEAD_TIMES } from '../../../src/cli/evaluate-commands.js';
import { durationList } from '../../../src/cli/options.js';
import { runBacktest, type BacktestOutput } from '../../../src/evaluate/backtest-run.js';
import type { TracePoint } from '../../../src/traces/csv.js';

const MINUTE = 60_000;

/** Parses `prescale backtest ...` without running it: the action is replaced, the options kept. */
function parseBacktest(args: string[]): { opts?: Record<string, unknown>; error?: string; help?: string } {
  const program = new Command().exitOverride();
  addEvaluationCommands(program);
  const command = program.commands.find((c) => c.name() === 'backtest')!;
  let opts: Record<string, unknown> | undefined;
  let error = '';
  let help = '';
  for (const c of [program, command]) c.exitOverride().configureOutput({ writeErr: (s) => (error += s), writeOut: (s) => (help += s) });
  command.action((o: Record<string, unknown>) => {
    opts = o;
  });
  try {
    program.parse(['node', 'prescale', 'backtest', '--trace', 't.csv', ...args]);
  } catch {
    return { error, help };
  }
  return { opts };
}

describe('prescale backtest --lead-times and --interval', () => {
  it('scores 2m and 10m windows of the default 30s interval unless told otherwise', () => {
    const { opts } = parseBacktest([]);
    expect(opts?.leadTimes).toEqual([2 * MINUTE, 10 * MINUTE]);
    expect(opts?.interval).toBe(30_000);
    const custom = parseBacktest(['--lead-times', '90s, 5m,5m', '--interval', '1m']).opts;
    expect(custom?.leadTimes).toEqual([90_000, 5 * MINUTE]);
    expect(custom?.interval).toBe(MINUTE);
  });

  it('refuses lead times that are not positive durations up to 1h, or too many of them', () => {
    const parse = durationList('--lead-times', MAX_BACKTEST_LEAD_TIMES, 60 * MINUTE);
    expect(() => parse('0s')).toThrow(/above 0 and at most 1h, got "0s"/);
    expect(() => parse('2h')).toThrow(/at most 1h/);
    expect(() => parse('2x')).toThrow(/--lead-times: "2x" is not a duration/);
    expect(() => parse(' , ')).toThrow(/name at least one duration/);
    expect(() => parse(Array.from({ length: 9 }, (_, i) => `${i + 1}m`).join(','))).toThrow(/at most 8 durations, got 9/);
    expect(parseBacktest(['--lead-times', '-1m']).error).toMatch(/--lead-times/);
  });

  it('refuses an interval outside the CRD bounds of 5s to 1h', () => {
    expect(parseBacktest(['--interval', '1s']).error).toMatch(/--interval: must be between 5s and 1h, got "1s"/);
    expect(parseBacktest(['--interval', '2h']).error).toMatch(/between 5s and 1h/);
    expect(parseBacktest(['--interval', 'soon']).error).toMatch(/--interval: "soon" is not a duration/);
  });

  it('documents both flags with their defaults in --help', () => {
    const { help } = parseBacktest(['--help']);
    expect(help).toMatch(/--lead-times <list>[\s\S]*default: 2m,10m/);
    expect(help).toMatch(/--interval <duration>[\s\S]*default: 30s/);
  });
});

describe('runBacktest decision windows', () => {
  // Two days and a half of a 5-minute sawtooth with a daily swell.
  const points: TracePoint[] = Array.from({ length: 720 }, (_, i) => [Date.UTC(2026, 0, 5) + i * 5 * MINUTE, 100 + 30 * Math.sin((2 * Math.PI * i) / 288) + (i % 7)]);
  const base = { traceName: 'saw.csv', points, horizonMs: 30 * MINUTE, models: ['seasonal-naive', 'linear'], warmupMs: 24 * 60 * MINUTE, folds: 6, historyMs: 7 * 24 * 60 * MINUTE, quantile: 0.9 };

  it('adds one window entry per lead time to every model, next to the unchanged horizon scores', () => {
    const { output, notes } = runBacktest({ ...base, leadTimesMs: [2 * MINUTE, 10 * MINUTE], intervalMs: 30_000 });
    expect(Object.keys(output)).toEqual(['trace', 'horizon', 'interval', 'quantile', 'models']);
    expect(output.interval).toBe('30s');
    for (const m of output.models) {
      expect(Object.keys(m)).toEqual(['name', 'mase', 'smape', 'coverage', 'fitSeconds', 'predictMillis', 'windows']);
      expect(m.windows.map((w) => w.lead)).toEqual(['2m', '10m']);
      for (const w of m.windows) {
        expect(Object.keys(w)).toEqual(['lead', 'mase', 'coverage', 'overForecast', 'underForecast', 'folds']);
        expect(w.folds).toBe(6);
        expect(w.coverage).toBeGreaterThanOrEqual(0);
        expect(w.coverage).toBeLessThanOrEqual(1);
      }
    }
    // 2m + 30s ends before the first 5-minute forecast point.
    expect(notes.some((n) => /lead time 2m \+ interval 30s ends before the first forecast point/.test(n))).toBe(true);
    const without = runBacktest({ ...base, leadTimesMs: [], intervalMs: 30_000 }).output;
    expect(without.models.map((m) => [m.mase, m.smape, m.coverage])).toEqual(output.models.map((m) => [m.mase, m.smape, m.coverage]));
  });

  it('notes a window beyond the horizon and hands the windows to the report', () => {
    const { notes, report } = runBacktest({ ...base, horizonMs: 10 * MINUTE, leadTimesMs: [20 * MINUTE], intervalMs: MINUTE, collectReport: true, now: () => new Date(0) });
    expect(notes).toContain('forecasts run 5 steps to reach the furthest decision window; MASE, sMAPE and coverage still score the 10m horizon');
    expect(report?.intervalMs).toBe(MINUTE);
    expect(report?.models[0]!.windows[0]!.leadMs).toBe(20 * MINUTE);
  });
});

describe('formatBacktestTable', () => {
  const output: BacktestOutput = {
    trace: 't.csv',
    horizon: '30m',
    interval: '30s',
    quantile: 0.9,
    models: [
      {
        name: 'linear',
        mase: 1.2345,
        smape: 10,
        coverage: 0.8,
        fitSeconds: 0.01,
        predictMillis: 0.5,
        windows: [
          { lead: '2m', mase: 0.41234, coverage: 0.875, overForecast: 0.5, underForecast: null, folds: 8 },
          { lead: '10m', mase: null, coverage: null, overForecast: null, underForecast: null, folds: 0 },
        ],
      },
    ],
  };

  it('prints one row per model and lead time after the horizon table', () => {
    const lines = formatBacktestTable(output).trimEnd().split('\n');
    expect(lines[0]).toBe('trace t.csv, horizon 30m');
    expect(lines[2]).toMatch(/^linear\s+1\.23\s+10\s+0\.8\s/);
    expect(lines[3]).toBe('decision window: q0.9 peak over [now + lead, now + lead + 30s]; coverage ideal 0.9');
    expect(lines[4]).toMatch(/^model\s+lead\s+win MASE\s+coverage\s+over\s+under\s+folds$/);
    expect(lines[5]).toMatch(/^linear\s+2m\s+0\.412\s+0\.875\s+0\.5\s+—\s+8$/);
    expect(lines[6]).toMatch(/^linear\s+10m\s+—\s+—\s+—\s+—\s+0$/);
  });

  it('prints the horizon table alone when no window was scored', () => {
    const text = formatBacktestTable({ ...output, models: output.models.map((m) => ({ ...m, windows: [] })) });
    expect(text).not.toContain('decision window');
    expect(text.trimEnd().split('\n')).toHaveLength(3);
  });
});
