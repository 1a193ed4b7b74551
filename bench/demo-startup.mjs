#!/usr/bin/env node
// Time from `npm start` to the first chart with data in the web view, as a newcomer would see it:
// runs `npm start` (setup check, build, `prescale demo`), opens the printed URL in Debian's
// Chromium and waits until a chart of the web service holds data; then Ctrl-C, and the time until
// the demo has exited. Run it on a warm machine (binaries built, packages installed):
//
//   node bench/demo-startup.mjs [--runs N]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 1);

async function stateOf(dir) {
  try {
    return JSON.parse(await readFile(join(dir, 'demo.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function once() {
  const stateDir = await mkdtemp(join(tmpdir(), 'prescale-demo-bench-'));
  const t0 = performance.now();
  const child = spawn('npm', ['start', '--', '--ui-port', '0', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let state;
  while (!(state = await stateOf(stateDir))?.url) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    await sleep(100);
  }
  const tReady = performance.now();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  await page.goto(`${state.url}#shop/web`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-chart]')].some((n) => Number(n.getAttribute('data-points')) > 0), null, { timeout: 300_000, polling: 100 });
  const tChart = performance.now();
  await browser.close();
  // npm runs the demo as its child: signal the demo itself, as Ctrl-C in a terminal would.
  process.kill(state.pid, 'SIGINT');
  const tStop = performance.now();
  await exited;
  const tGone = performance.now();
  await rm(stateDir, { recursive: true, force: true });
  return { readyS: (tReady - t0) / 1000, firstChartS: (tChart - t0) / 1000, teardownS: (tGone - tStop) / 1000 };
}

const results = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(`run ${i + 1}: web view up ${r.readyS.toFixed(1)} s, first chart with data ${r.firstChartS.toFixed(1)} s after npm start; teardown ${r.teardownS.toFixed(1)} s`);
}
if (runs > 1) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`median: first chart ${median(results.map((r) => r.firstChartS)).toFixed(1)} s, teardown ${median(results.map((r) => r.teardownS)).toFixed(1)} s`);
}
