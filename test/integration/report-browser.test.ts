// Opens the simulate and backtest reports in headless Chromium: no errors, no network, every plot
// laid out, the hover read-out and legend toggles working; leaves full-page screenshots behind.
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderBacktestReport, renderSimulationReport } from '../../src/report/render.js';
import { backtestReport, simulationReport } from '../unit/report/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';

interface Visit {
  page: Page;
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  networkRequests: string[];
}

describe('HTML reports in a browser', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run hack/setup.sh (installs Debian's chromium)`);
    dir = await mkdtemp(join(tmpdir(), 'prescale-report-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(name: string, html: string): Promise<Visit> {
    const file = join(dir, `${name}.html`);
    await writeFile(file, html);
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const visit: Visit = { page, consoleErrors: [], pageErrors: [], failedRequests: [], networkRequests: [] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') visit.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => visit.pageErrors.push(e.message));
    page.on('requestfailed', (r) => visit.failedRequests.push(r.url()));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) visit.networkRequests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return visit;
  }

  async function plotBoxes(page: Page): Promise<Record<string, { width: number; height: number }>> {
    return page.$$eval('svg[data-plot]', (svgs) =>
      Object.fromEntries(
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return [svg.getAttribute('data-plot') ?? '', { width: box.width, height: box.height }];
        }),
      ),
    );
  }

  function expectClean(visit: Visit): void {
    expect(visit.consoleErrors).toEqual([]);
    expect(visit.pageErrors).toEqual([]);
    expect(visit.failedRequests).toEqual([]);
    expect(visit.networkRequests).toEqual([]);
  }

  it('renders a 14-day, 12-policy simulation report with every plot laid out', async () => {
    const visit = await open('simulation', renderSimulationReport(simulationReport({ days: 14 })));
    const { page } = visit;
    const boxes = await plotBoxes(page);
    expect(Object.keys(boxes).sort()).toEqual(['capacity-overlay', 'capacity-panels', 'forecast', 'forecast-detail', 'frontier']);
    for (const box of Object.values(boxes)) {
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(100);
    }
    // Every drawn series has ink: a path whose box is empty would be a broken plot.
    const emptyPaths = await page.$$eval('svg path.capacity, svg path.demand, svg path.band, svg path.mean', (paths) =>
      paths.filter((p) => {
        const b = (p as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return b.width === 0 && b.height === 0;
      }).length,
    );
    expect(emptyPaths).toBe(0);

    const overlay = page.locator('svg[data-plot="capacity-overlay"]');
    await overlay.scrollIntoViewIfNeeded();
    const box = await overlay.boundingBox();
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height * 0.6);
    await expect.poll(() => page.locator('.hover-tip').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC · /);

    const hpa = overlay.locator('path.capacity[data-series="hpa@0.5"]');
    expect(await hpa.isVisible()).toBe(true);
    await overlay.locator('.toggle[data-toggle="hpa@0.5"]').click();
    expect(await hpa.isVisible()).toBe(false);
    await overlay.locator('.toggle[data-toggle="hpa@0.5"]').click();
    expect(await hpa.isVisible()).toBe(true);
    await page.mouse.move(0, 0);

    const screenshot = join(dir, 'simulation.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`simulation report screenshot: ${screenshot}`);
    expectClean(visit);
  });

  it('renders a backtest report with the MASE bars, the table and the folds', async () => {
    const visit = await open('backtest', renderBacktestReport(backtestReport()));
    const { page } = visit;
    const boxes = await plotBoxes(page);
    expect(Object.keys(boxes).sort()).toEqual(['backtest-folds', 'mase-bars']);
    for (const b of Object.values(boxes)) expect(b.width * b.height).toBeGreaterThan(0);
    expect(await page.locator('#metrics table.results tbody tr').count()).toBe(4);
    expect(await page.locator('#windows table.results tbody tr').count()).toBe(8);
    const screenshot = join(dir, 'backtest.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`backtest report screenshot: ${screenshot}`);
    expectClean(visit);
  });
});
