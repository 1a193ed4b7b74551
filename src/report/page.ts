// The HTML shell: inline styles, a header with the run's settings, notes, sections, and a small
// script for hover read-outs and legend toggles (the plots do not need it to show).
import { escapeXml } from './svg/escape.js';

export interface PageSection {
  id: string;
  heading: string;
  /** Explanatory paragraph (plain text, escaped). */
  intro?: string;
  /** Trusted HTML built by the report code. */
  html: string;
}

export interface PageSpec {
  title: string;
  /** Label / value pairs shown under the title (plain text, escaped). */
  facts: [string, string][];
  /** A sentence or two that sums the run up (plain text, escaped). */
  headline?: string;
  notes: readonly string[];
  sections: readonly PageSection[];
}

export function htmlPage(spec: PageSpec): string {
  const facts = spec.facts.map(([k, v]) => `<div><dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd></div>`).join('');
  const notes = spec.notes.length
    ? `<section class="notes" aria-label="Notes"><h2>Notes</h2><ul>${spec.notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul></section>`
    : '';
  const sections = spec.sections
    .map(
      (s) =>
        `<section id="${escapeXml(s.id)}"><h2>${escapeXml(s.heading)}</h2>` +
        `${s.intro ? `<p class="intro">${escapeXml(s.intro)}</p>` : ''}<div class="figure">${s.html}</div></section>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(spec.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeXml(spec.title)}</h1><dl class="facts">${facts}</dl>${spec.headline ? `<p class="headline">${escapeXml(spec.headline)}</p>` : ''}</header>
<main>
${notes}
${sections}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root{color-scheme:light}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#222;background:#fff}
header,main{max-width:1000px;margin:0 auto}
h1{font-size:22px;margin:0 0 8px;word-break:break-word}
h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #e3e3e3;padding-bottom:4px}
.facts{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0;color:#444}
.facts div{display:flex;gap:6px}.facts dt{color:#777}.facts dd{margin:0;font-variant-numeric:tabular-nums}
.headline{margin:12px 0 0;padding:8px 12px;background:#f3f7fc;border-left:3px solid #2f6db5}
.intro{color:#555;margin:4px 0 10px}
.notes ul{margin:4px 0;padding-left:20px;color:#444}
.figure{overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto;font-size:12px;fill:#333;margin:6px 0 18px}
svg .chart-title{font-size:14px;font-weight:600;fill:#222}
svg .grid{stroke:#ececec;stroke-width:1}
svg .domain{stroke:#888;stroke-width:1}
svg .tick{fill:#555;font-size:11px;font-variant-numeric:tabular-nums}
svg .tick-date{fill:#888}
svg .axis-label{fill:#555;font-size:12px}
svg .panel-title{font-size:12px;fill:#555}
svg .panel-name{font-weight:600}
svg .point-label{font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg .bar-label,svg .bar-value{font-size:12px}
svg .reference-label{font-size:11px;fill:#b23a3a}
svg .legend text{font-size:12px;fill:#333}
svg .toggle{cursor:pointer}
svg .toggle.off{opacity:.35}
svg .crosshair{stroke:#666;stroke-width:1;stroke-dasharray:2 2;pointer-events:none}
table.results{border-collapse:collapse;margin:6px 0 8px;font-variant-numeric:tabular-nums;width:100%}
table.results caption{text-align:left;color:#555;padding-bottom:6px}
table.results th,table.results td{padding:5px 8px;border-bottom:1px solid #e6e6e6;text-align:right;white-space:nowrap}
table.results thead th{white-space:normal;vertical-align:bottom}
table.results th[scope=row],table.results thead th:first-child{text-align:left}
table.results thead th{border-bottom:2px solid #bbb;font-weight:600;color:#333}
table.results td.best{font-weight:700;background:#e4f3e4}
table.results td.good{color:#1d6b36}
table.results tr.reference{color:#777;font-style:italic}
.hover-tip{position:absolute;display:none;pointer-events:none;background:rgba(255,255,255,.95);border:1px solid #bbb;border-radius:3px;padding:3px 6px;font-size:12px;font-variant-numeric:tabular-nums;box-shadow:0 1px 3px rgba(0,0,0,.15)}
@media print{body{padding:0}h2{break-after:avoid}section,.figure,svg.chart{break-inside:avoid}.hover-tip{display:none!important}}
`;

const SCRIPT = `
(function () {
  var tip = document.createElement('div');
  tip.className = 'hover-tip';
  document.body.appendChild(tip);
  function num(svg, name) { return Number(svg.getAttribute('data-hover-' + name)); }
  function short(v) {
    var a = Math.abs(v);
    return a >= 1e6 ? (v / 1e6).toPrecision(3) + 'M' : a >= 1e4 ? (v / 1e3).toPrecision(3) + 'k' : a >= 100 ? v.toFixed(0) : v.toPrecision(3);
  }
  Array.prototype.forEach.call(document.querySelectorAll('svg[data-hover-x0]'), function (svg) {
    var line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
    line.setAttribute('class', 'crosshair');
    line.style.display = 'none';
    svg.appendChild(line);
    function hide() { line.style.display = 'none'; tip.style.display = 'none'; }
    svg.addEventListener('mouseleave', hide);
    svg.addEventListener('mousemove', function (event) {
      var matrix = svg.getScreenCTM();
      if (!matrix) return;
      var p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
      var x0 = num(svg, 'x0'), x1 = num(svg, 'x1'), top = num(svg, 'top'), bottom = num(svg, 'bottom');
      if (p.x < x0 || p.x > x1 || p.y < top || p.y > bottom) { hide(); return; }
      var t = num(svg, 't0') + ((p.x - x0) / (x1 - x0)) * (num(svg, 't1') - num(svg, 't0'));
      var text = new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
      if (svg.hasAttribute('data-hover-v0')) {
        text += ' \\u00b7 ' + short(num(svg, 'v0') + ((bottom - p.y) / (bottom - top)) * (num(svg, 'v1') - num(svg, 'v0')));
      }
      line.setAttribute('x1', p.x); line.setAttribute('x2', p.x);
      line.setAttribute('y1', top); line.setAttribute('y2', bottom);
      line.style.display = '';
      tip.textContent = text;
      tip.style.left = (event.pageX + 12) + 'px';
      tip.style.top = (event.pageY + 12) + 'px';
      tip.style.display = 'block';
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('svg .toggle'), function (item) {
    item.addEventListener('click', function () {
      var svg = item.closest('svg');
      var key = item.getAttribute('data-toggle');
      var off = item.classList.toggle('off');
      Array.prototype.forEach.call(svg.querySelectorAll('[data-series]'), function (el) {
        if (el.getAttribute('data-series') === key) el.style.display = off ? 'none' : '';
      });
    });
  });
})();
`;
