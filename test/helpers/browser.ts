// Headless Debian Chromium for tests of the pages a person looks at, and a watch on a page for
// what must never happen: console errors or warnings, uncaught errors, failed requests, and any
// request to another origin than the page's own.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run hack/setup.sh (installs Debian's chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface PageWatch {
  /** Console errors and warnings, page errors, failed requests. */
  problems: string[];
  /** Every URL requested outside `${origin}/`. */
  elsewhere: string[];
}

export function watchPage(page: Page, origin: string): PageWatch {
  const watch: PageWatch = { problems: [], elsewhere: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') watch.problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => watch.problems.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The live-update stream is cut when the page closes; nothing else may fail.
    if (!r.url().endsWith('/api/events')) watch.problems.push(`failed: ${r.url()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) watch.elsewhere.push(r.url());
  });
  return watch;
}
