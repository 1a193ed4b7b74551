import { describe, expect, it } from 'vitest';
import { renderBacktestReport } from '../../../src/report/render.js';
import { pickFolds } from '../../../src/report/charts/folds.js';
import { backtestReport } from './fixtures.js';

function plot(html: string, name: string): string {
  const start = html.indexOf(`data-plot="${name}"`);
  expect(start, `plot ${name}`).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf('<svg', start), html.indexOf('</svg>', start));
}

describe('renderBacktestReport', () => {
  const data = backtestReport();
  const html = renderBacktestReport(data);

  it('draws a MASE bar per model, marks the best and the seasonal-naive line at 1', () => {
    const bars = plot(html, 'mase-bars');
    expect(bars.match(/<rect class="bar/g)).toHaveLength(data.models.length);
    expect(bars).toContain('class="bar bar-best" data-series="ensemble"');
    expect(bars).toContain('class="reference"');
    expect(bars).toContain('1.0 = seasonal-naive in-sample error');
  });

  it('tables every metric and highlights coverage closest to the planning quantile', () => {
    const table = html.slice(html.indexOf('<table'), html.indexOf('</table>'));
    expect(table.match(/<tr/g)).toHaveLength(data.models.length + 1);
    expect(table).toContain('<td class="best">90.0 %</td>');
    expect(table).toContain('<td class="good best">0.740</td>');
  });

  it('shows at most four folds, each with the actual, the context and every model', () => {
    const folds = plot(html, 'backtest-folds');
    const panels = folds.split('<g class="panel">').slice(1);
    expect(panels).toHaveLength(4);
    for (const panel of panels) {
      expect(panel.match(/class="actual"/g)).toHaveLength(1);
      expect(panel.match(/class="context"/g)).toHaveLength(1);
      expect(panel.match(/class="mean"/g)).toHaveLength(data.models.length);
      expect(panel.match(/class="band"/g)).toHaveLength(data.models.length);
    }
  });

  it('spreads the chosen folds over the whole run', () => {
    const picked = pickFolds(data.folds, 4);
    expect(picked[0]).toBe(data.folds[0]);
    expect(picked[3]).toBe(data.folds[data.folds.length - 1]);
    expect(pickFolds(data.folds.slice(0, 2), 4)).toHaveLength(2);
  });

  it('shows a model without a score as a dash and without a bar', () => {
    const page = renderBacktestReport({ ...data, models: data.models.map((m, i) => (i === 1 ? { ...m, mase: NaN, coverage: NaN } : m)) });
    expect(plot(page, 'mase-bars').match(/<rect class="bar/g)).toHaveLength(data.models.length - 1);
    expect(page).toContain('<td>—</td>');
    expect(page).not.toContain('NaN');
  });

  it('tables the decision-window scores per lead time, coverage closest to the quantile highlighted', () => {
    const section = html.slice(html.indexOf('<section id="windows">'), html.indexOf('</section>', html.indexOf('<section id="windows">')));
    expect(section).toContain('Forecast error where the scaler decides');
    const tables = section.split('<table').slice(1);
    expect(tables).toHaveLength(2);
    expect(tables[0]).toContain('Lead time 2m: peak over [now + 2m, now + 2m30s]');
    expect(tables[1]).toContain('Lead time 10m: peak over [now + 10m, now + 10m30s]');
    for (const table of tables) expect(table.match(/<tr/g)).toHaveLength(data.models.length + 1);
    // Lead 2m: window MASE 0.41, 0.55, 1.2, 0.38 and coverage 75, 93, 83, 88 %: the ensemble is best at both.
    expect(tables[0]).toContain('<th scope="row">ensemble</th><td class="good best">0.380</td><td class="best">88.0 %</td>');
    expect(tables[0]).toContain('<th scope="row">linear</th><td>1.200</td><td>83.0 %</td>');
    expect(html).toContain('<dt>interval</dt>');
  });

  it('omits the decision-window section when no lead time was scored', () => {
    const page = renderBacktestReport({ ...data, models: data.models.map((m) => ({ ...m, windows: [] })) });
    expect(page).not.toContain('id="windows"');
  });

  it('omits the folds plot when there are no folds', () => {
    const page = renderBacktestReport({ ...data, folds: [] });
    expect(page).not.toContain('data-plot="backtest-folds"');
  });
});
