// MASE per model as horizontal bars, with the 1.0 line: the in-sample seasonal-naive error.
import { CATEGORICAL } from '../colors.js';
import { fixed, tickFormatter } from '../format.js';
import { bottomAxis } from '../svg/axes.js';
import { type IdSource, type PlotArea, TITLE_HEIGHT, svgChart, textWidth } from '../svg/chart.js';
import { escapeXml } from '../svg/escape.js';
import { px } from '../svg/paths.js';
import { scaleLinear } from '../svg/scale.js';
import { niceTicks } from '../svg/ticks.js';

const WIDTH = 960;
const BAR_HEIGHT = 26;
const BAR_GAP = 10;

export function maseBars(models: readonly { name: string; mase: number }[], colors: ReadonlyMap<string, string>, ids: IdSource): string {
  const left = Math.min(260, Math.max(90, ...models.map((m) => textWidth(m.name) + 20)));
  const top = TITLE_HEIGHT + 24;
  const area: PlotArea = { left, top, width: WIDTH - left - 70, height: Math.max(1, models.length) * (BAR_HEIGHT + BAR_GAP) };
  const height = top + area.height + 52;
  const finite = models.map((m) => m.mase).filter(Number.isFinite);
  const best = finite.length ? Math.min(...finite) : NaN;
  const axis = niceTicks(0, Math.max(1, ...finite) * 1.08, 6);
  const x = scaleLinear([axis.min, axis.max], [area.left, area.left + area.width]);

  let body = bottomAxis(x, axis.ticks, area, { label: 'MASE (lower is better)', format: tickFormatter(axis) });
  models.forEach((m, i) => {
    const y = area.top + i * (BAR_HEIGHT + BAR_GAP) + BAR_GAP / 2;
    const color = colors.get(m.name) ?? CATEGORICAL[i % CATEGORICAL.length];
    const name = escapeXml(m.name);
    body += `<text class="bar-label" x="${left - 8}" y="${y + BAR_HEIGHT / 2}" text-anchor="end" dominant-baseline="middle">${name}</text>`;
    if (!Number.isFinite(m.mase)) {
      body += `<text class="bar-value" x="${left + 6}" y="${y + BAR_HEIGHT / 2}" dominant-baseline="middle">— (no score)</text>`;
      return;
    }
    const width = Math.max(1, x.map(m.mase) - left);
    const isBest = m.mase === best;
    body += `<rect class="bar${isBest ? ' bar-best' : ''}" data-series="${name}" x="${left}" y="${y}" width="${px(width)}" height="${BAR_HEIGHT}" fill="${color}"${isBest ? ' stroke="#222" stroke-width="1.5"' : ''}><title>${name}: MASE ${fixed(m.mase, 3)}</title></rect>`;
    body += `<text class="bar-value" x="${px(left + width + 6)}" y="${y + BAR_HEIGHT / 2}" dominant-baseline="middle">${fixed(m.mase, 3)}${isBest ? ' (best)' : ''}</text>`;
  });
  const one = px(x.map(1));
  body += `<line class="reference" x1="${one}" x2="${one}" y1="${area.top - 6}" y2="${area.top + area.height}" stroke="#b23a3a" stroke-width="1.5" stroke-dasharray="5 4"/>`;
  body += `<text class="reference-label" x="${one}" y="${area.top - 10}" text-anchor="middle">1.0 = seasonal-naive in-sample error</text>`;

  return svgChart(
    {
      width: WIDTH,
      height,
      title: 'Forecast error per model (MASE)',
      description:
        `Mean absolute scaled error of ${models.length} models over the backtest folds. A value of 1 equals the in-sample error ` +
        'of a seasonal-naive forecast; below 1 is better.',
      plot: 'mase-bars',
    },
    ids,
    body,
  );
}
