import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { addEvaluationCommands, objectivePercent, parsePolicies } from '../../../src/cli/evaluate-commands.js';

/** Parses `prescale simulate ...` without running it: the action is replaced, the options kept. */
function parseSimulate(args: string[]): { opts?: Record<string, unknown>; error?: string } {
  const program = new Command().exitOverride();
  addEvaluationCommands(program);
  const simulate = program.commands.find((c) => c.name() === 'simulate')!;
  let opts: Record<string, unknown> | undefined;
  let error = '';
  for (const c of [program, simulate]) c.exitOverride().configureOutput({ writeErr: (s) => (error += s), writeOut: () => {} });
  simulate.action((o: Record<string, unknown>) => {
    opts = o;
  });
  try {
    program.parse(['node', 'prescale', 'simulate', '--trace', 't.csv', '--capacity-per-replica', '5', ...args]);
  } catch {
    return { error };
  }
  return { opts };
}

describe('prescale simulate --objective', () => {
  it('reads a percentage as a share, 0.5% by default', () => {
    expect(objectivePercent('0.5%')).toBe(0.005);
    expect(objectivePercent('2%')).toBe(0.02);
    expect(objectivePercent('0%')).toBe(0);
    expect(objectivePercent(' 1.5% ')).toBe(0.015);
    expect(parseSimulate([]).opts?.objective).toBe(0.005);
    expect(parseSimulate(['--objective', '1%']).opts?.objective).toBe(0.01);
  });

  it('refuses what is not a percentage up to 50%, saying what it expects', () => {
    for (const bad of ['0.5', '0.005', 'abc', '-1%', '%', '1e-3%', '']) {
      expect(() => objectivePercent(bad)).toThrow(InvalidArgumentError);
      expect(() => objectivePercent(bad)).toThrow(/expected a percentage such as 0.5%/);
    }
    expect(() => objectivePercent('60%')).toThrow(/must be at most 50%, got "60%"/);
    const { error } = parseSimulate(['--objective', '0.5']);
    expect(error).toMatch(/option '--objective <percent>' argument '0.5' is invalid\. expected a percentage such as 0.5%/);
  });
});

describe('prescale simulate --policies', () => {
  it('runs prescale@auto by default, next to the quantile sweep and the HPA sweep', () => {
    expect(parsePolicies(String(parseSimulate([]).opts?.policies))).toEqual(['prescale', 'auto', 'hpa', 'oracle']);
  });

  it('takes auto by either name, once', () => {
    expect(parsePolicies('prescale@auto,hpa')).toEqual(['auto', 'hpa']);
    expect(parsePolicies('auto, auto')).toEqual(['auto']);
  });

  it('refuses an unknown policy', () => {
    expect(() => parsePolicies('prescale,hpa@0.8')).toThrow(/unknown policy "hpa@0.8"; use prescale, auto, hpa, oracle/);
    expect(() => parsePolicies(',')).toThrow(/name at least one/);
  });

  it('documents the policy and the objective in --help', () => {
    const program = new Command();
    addEvaluationCommands(program);
    const help = program.commands.find((c) => c.name() === 'simulate')!.helpInformation();
    expect(help).toMatch(/auto \(prescale@auto/);
    expect(help).toMatch(/--objective <percent>[^]*\(default: 0\.5%\)/);
    expect(help).toMatch(/default:\s+"prescale,auto,hpa,oracle"/);
  });
});
