import { describe, expect, it } from 'vitest';
import { renderSimulationReport } from '../../../src/report/render.js';
import { simulationReport } from './fixtures.js';

/** The markup of the <svg> whose data-plot is `plot`. */
function plot(html: string, name: string): string {
  const start = html.indexOf(`data-plot="${name}"`);
  expect(start, `plot ${name}`).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf('<svg', start), html.indexOf('</svg>', start));
}

function count(text: string, pattern: RegExp): number {
  return (text.match(new RegExp(pattern.source, 'g')) ?? []).length;
}

describe('renderSimulationReport', () => {
  const data = simulationReport({ days: 2 });
  const html = renderSimulationReport(data);

  it('is one self-contained HTML page without external resources', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/@import|url\((?!#)/);
  });

  it('has one accessible svg per plot', () => {
    const plots = [...html.matchAll(/<svg[^>]*data-plot="([^"]+)"/g)].map((m) => m[1]);
    expect(plots).toEqual(['frontier', 'capacity-panels', 'capacity-overlay', 'forecast', 'forecast-detail']);
    expect(count(html, /<svg/)).toBe(plots.length);
    expect(count(html, /<title id=/)).toBe(plots.length);
    expect(count(html, /<desc id=/)).toBe(plots.length);
  });

  it('draws every policy on the frontier, in the panels and in the overlay', () => {
    const frontier = plot(html, 'frontier');
    expect(count(frontier, /class="point point-hpa"/)).toBe(6);
    expect(count(frontier, /class="point point-prescale"/)).toBe(5);
    expect(count(frontier, /class="point point-oracle"/)).toBe(1);
    expect(frontier).toContain('>hpa@0.8</text>');
    for (const name of ['capacity-panels', 'capacity-overlay']) {
      const svg = plot(html, name);
      for (const policy of data.policies) {
        expect(count(svg, new RegExp(`<path class="capacity" data-series="${policy.name.replace(/[.@]/g, '\\$&')}"`))).toBe(1);
      }
    }
    expect(count(plot(html, 'capacity-panels'), /class="demand"/)).toBe(data.policies.length);
  });

  it('shades under-provisioned time only in panels of policies that were under-provisioned', () => {
    const panels = plot(html, 'capacity-panels').split('<g class="panel"').slice(1);
    expect(panels).toHaveLength(data.policies.length);
    for (const panel of panels) {
      const name = /data-series="([^"]+)"/.exec(panel)![1];
      const result = data.policies.find((p) => p.name === name)!.result;
      expect(panel.includes('class="under"'), name).toBe(result.underProvisionedMinutes > 0);
    }
    const oracle = panels.find((p) => p.includes('data-series="oracle"'))!;
    expect(oracle).not.toContain('class="under"');
    const hpa1 = panels.find((p) => p.includes('data-series="hpa@1"'))!;
    expect(hpa1).toContain('class="under"');
  });

  it('draws the forecast band, mean and actual', () => {
    for (const name of ['forecast', 'forecast-detail']) {
      const svg = plot(html, name);
      expect(svg).toMatch(/class="band"[^>]* d="M[^"]+Z"/);
      expect(svg).toMatch(/class="mean"[^>]* d="M/);
      expect(svg).toMatch(/class="actual"[^>]* d="M/);
    }
  });

  it('tables every policy, shows null ratios as a dash and highlights the best values', () => {
    const table = html.slice(html.indexOf('<table'), html.indexOf('</table>'));
    expect(count(table, /<tr/)).toBe(data.policies.length + 1);
    expect(table).toContain('<td>—</td>');
    const lowestRatio = Math.min(...data.summary.map((s) => s.underRatioAtEqualCost ?? Infinity));
    expect(table).toContain(`<td class="good best">${lowestRatio.toFixed(2)}</td>`);
    // The oracle is a bound: never highlighted even though its numbers are the lowest.
    const oracleRow = table.slice(table.indexOf('<tr class="reference">'), table.indexOf('</tr>', table.indexOf('<tr class="reference">')));
    expect(oracleRow).not.toContain('best');
  });

  it('leaves out the forecast plots when there is no forecast', () => {
    const page = renderSimulationReport({ ...data, forecast: undefined });
    expect(page).not.toContain('data-plot="forecast"');
    expect(count(page, /<svg/)).toBe(3);
  });

  it('renders an empty run without failing', () => {
    const page = renderSimulationReport({ ...data, policies: [], summary: [], forecast: undefined, demand: { start: 0, stepMs: 60_000, values: [] } });
    expect(page).toContain('data-plot="frontier"');
    expect(page).not.toContain('NaN');
  });

  it('stays small for a 14-day, 12-policy run and does not grow with the run length', () => {
    const twoWeeks = renderSimulationReport(simulationReport({ days: 14 }));
    const twoMonths = renderSimulationReport(simulationReport({ days: 60 }));
    expect(twoWeeks.length).toBeLessThan(3_000_000);
    expect(twoMonths.length).toBeLessThan(twoWeeks.length * 1.3);
    expect(twoWeeks).not.toContain('NaN');
  });
});
