// `prescale demo [--trace FILE] [--speed N] [--ramp-in D] [--ui-port N] [--keep | --stop]`.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { launchInBackground, stopDemo } from '../demo/background.js';
import { runDemo } from '../demo/demo.js';
import { duration } from './options.js';
import { parseDuration } from '../api/units.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_UI_PORT = 8470;
export const MAX_SPEED = 20;

function speed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > MAX_SPEED) throw new InvalidArgumentError(`must be a number from 1 to ${MAX_SPEED}`);
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 for any free port)');
  return n;
}

function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const cacheRoot = env.PRESCALE_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prescale');
  return join(cacheRoot, 'demo');
}

export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a live demo on loopback: a local cluster with fake nodes, Prometheus replaying a real trace whose ramp arrives minutes from now, the examples and the operator with its web view; Ctrl-C tears it all down')
    .option('--trace <file>', 'CSV of timestamp,value to replay (default: the bundled demo/traces/nyc-taxi.csv)')
    .option('--speed <n>', `replay the trace n times faster than real time, 1-${MAX_SPEED}; the scalers' history and seasons shrink by n, pods keep their real start-up time`, speed, 1)
    .option('--ramp-in <duration>', 'how long after start the trace\'s ramp arrives', duration('--ramp-in'), parseDuration('7m'))
    .option('--ui-port <port>', 'port of the web view on 127.0.0.1 (another free one when taken; 0 for any)', port, DEFAULT_UI_PORT)
    .option('--keep', 'leave the demo running in the background and print its kubeconfig; stop it with --stop', false)
    .option('--stop', 'stop the demo left running by --keep', false)
    .option('--state-dir <dir>', 'where the running demo records itself (one demo per directory)', defaultStateDir(process.env))
    .action(async (opts) => {
      const print = (line: string) => process.stderr.write(`${line}\n`);
      const stateDir = resolve(opts.stateDir as string);
      if (opts.stop && opts.keep) throw new Error('--keep and --stop exclude each other');
      if (opts.stop) process.exit(await stopDemo(stateDir, print));
      if (opts.rampIn < 60_000) throw new Error('--ramp-in: at least 1m (the operator needs that long to start and plan)');
      if (opts.keep) {
        const demoArgs = process.argv.slice(process.argv.indexOf('demo') + 1).filter((a) => a !== '--keep');
        process.exit(await launchInBackground({ cliPath: join(REPO_ROOT, 'dist', 'cli', 'main.js'), demoArgs: [...demoArgs, '--state-dir', stateDir], stateDir, print }));
      }
      const code = await runDemo(
        { repoRoot: REPO_ROOT, trace: opts.trace ? resolve(opts.trace) : undefined, speed: opts.speed, rampInMs: opts.rampIn, uiPort: opts.uiPort, stateDir },
        {
          pid: process.pid,
          now: Date.now,
          print,
          onSignal: (handler) => {
            process.on('SIGINT', handler);
            process.on('SIGTERM', handler);
            process.on('SIGHUP', handler);
            return () => {
              process.off('SIGINT', handler);
              process.off('SIGTERM', handler);
              process.off('SIGHUP', handler);
            };
          },
          exitNow: (c) => process.exit(c),
        },
      );
      process.exit(code);
    });
}
