import { describe, expect, it } from 'vitest';
import { renderBacktestReport, renderSimulationReport } from '../../../src/report/render.js';
import { escapeXml } from '../../../src/report/svg/escape.js';
import { backtestReport, simulationReport } from './fixtures.js';

const HOSTILE = `<script>alert("x")</script>`;
const ATTRIBUTE_BREAKER = `"><img src=x onerror=alert(1)>`;

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('escaping', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('keeps a hostile trace name, policy names and notes from injecting markup into the simulation page', () => {
    const data = simulationReport({
      days: 1,
      trace: HOSTILE,
      policyNames: (kind, p) => (kind === 'hpa' ? `${HOSTILE}@${p}` : kind === 'prescale' ? `${ATTRIBUTE_BREAKER}@q${p}` : 'oracle'),
    });
    data.notes.push(HOSTILE, ATTRIBUTE_BREAKER);
    data.forecast!.model = HOSTILE;
    const html = renderSimulationReport(data);
    expect(countOf(html, '<script')).toBe(1); // the page's own script
    expect(html).not.toContain('<img');
    expect(html).not.toContain('alert("x")');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('keeps hostile model names out of the backtest page markup', () => {
    const html = renderBacktestReport(backtestReport({ models: [HOSTILE, ATTRIBUTE_BREAKER], trace: HOSTILE }));
    expect(countOf(html, '<script')).toBe(1);
    expect(html).not.toContain('<img');
  });
});
