// Small multiples of backtest folds: the context before the origin, what actually happened, and
// each model's mean and band over the horizon.
import type { BacktestFold } from '../types.js';
import type { TimeSeriesData } from '../../simulate/types.js';
import { CONTEXT_COLOR, DEMAND_COLOR } from '../colors.js';
import { tickFormatter, utc } from '../format.js';
import { leftAxis, timeAxis } from '../svg/axes.js';
import { type IdSource, type PlotArea, TITLE_HEIGHT, clipTo, svgChart } from '../svg/chart.js';
import { downsampleEnvelope, downsampleMinMax } from '../svg/downsample.js';
import { escapeXml } from '../svg/escape.js';
import { legend, legendHeight, type LegendItem } from '../svg/legend.js';
import { bandPath, linePath, px } from '../svg/paths.js';
import { scaleLinear } from '../svg/scale.js';
import { niceTicks, timeTicks } from '../svg/ticks.js';
import { maxOf, seriesWindow } from './time-window.js';

const WIDTH = 960;
const COLUMNS = 2;
const PANEL_WIDTH = 370;
const PANEL_HEIGHT = 170;
const COLUMN_GAP = 100;
const ROW_GAP = 90;
const LEFT = 70;

/** Up to `count` folds spread evenly over the list (first and last included). */
export function pickFolds(folds: readonly BacktestFold[], count: number): BacktestFold[] {
  if (folds.length <= count) return [...folds];
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (folds.length - 1)) / (count - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => folds[i]);
}

export function foldPanels(
  folds: readonly BacktestFold[],
  modelNames: readonly string[],
  colors: ReadonlyMap<string, string>,
  ids: IdSource,
): string {
  const items: LegendItem[] = [
    { label: 'context', color: CONTEXT_COLOR, swatch: 'line' },
    { label: 'actual', color: DEMAND_COLOR, swatch: 'line' },
    ...modelNames.map((name): LegendItem => ({ label: `${name} (mean and band)`, color: colors.get(name) ?? '#555', swatch: 'band', series: name })),
  ];
  const legendTop = TITLE_HEIGHT + 2;
  const firstTop = legendTop + legendHeight(items, WIDTH - LEFT - 20) + 36;
  const rows = Math.ceil(folds.length / COLUMNS);
  const height = firstTop + rows * (PANEL_HEIGHT + ROW_GAP) - ROW_GAP + 56;

  let body = legend(items, LEFT, legendTop, WIDTH - LEFT - 20);
  folds.forEach((fold, i) => {
    const area: PlotArea = {
      left: LEFT + (i % COLUMNS) * (PANEL_WIDTH + COLUMN_GAP),
      top: firstTop + Math.floor(i / COLUMNS) * (PANEL_HEIGHT + ROW_GAP),
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
    };
    body += foldPanel(fold, area, colors, ids);
  });

  return svgChart(
    {
      width: WIDTH,
      height,
      title: `Sample folds (${folds.length})`,
      description:
        `${folds.length} backtest folds. Each panel shows the recent context in grey, the actual values over the horizon in black, ` +
        'and each model\'s forecast mean as a line with its quantile band shaded. A dashed line marks the forecast origin.',
      plot: 'backtest-folds',
    },
    ids,
    body,
  );
}

function foldPanel(fold: BacktestFold, area: PlotArea, colors: ReadonlyMap<string, string>, ids: IdSource): string {
  const horizon = (values: number[]): TimeSeriesData => ({ start: fold.origin, stepMs: fold.stepMs, values });
  const contextWindow = seriesWindow(fold.context);
  // A long context would squeeze the horizon into a sliver; three horizons of it are enough to judge.
  const horizonMs = Math.max(1, fold.actual.length) * fold.stepMs;
  const t0 = Math.min(Math.max(contextWindow.t0, fold.origin - 3 * horizonMs), fold.origin);
  const t1 = Math.max(contextWindow.t1 - fold.context.stepMs, fold.origin + Math.max(0, fold.actual.length - 1) * fold.stepMs);
  const buckets = area.width;
  const yMax = maxOf(fold.context.values, fold.actual, ...fold.models.flatMap((m) => [m.mean, m.upper]));
  const yAxis = niceTicks(0, yMax * 1.05 || 1, 4);
  const x = scaleLinear([t0, t1], [area.left, area.left + area.width]);
  const y = scaleLinear([yAxis.min, yAxis.max], [area.top + area.height, area.top]);
  const clip = clipTo(area, ids);
  const origin = px(x.map(fold.origin));

  let out = `<g class="panel">${clip.defs}`;
  out += `<text class="panel-title" x="${area.left}" y="${area.top - 10}">origin ${escapeXml(utc(fold.origin))}</text>`;
  out += timeAxis(x, timeTicks(t0, t1, 4), area, { label: false });
  out += leftAxis(y, yAxis.ticks, area, { format: tickFormatter(yAxis) });
  out += `<g ${clip.attribute}>`;
  for (const m of fold.models) {
    const color = colors.get(m.name) ?? '#555';
    const series = escapeXml(m.name);
    const band = downsampleEnvelope(horizon(m.lower), horizon(m.upper), t0, t1, buckets);
    out += `<path class="band" data-series="${series}" d="${bandPath(band, x, y)}" fill="${color}" fill-opacity="0.16" stroke="none"/>`;
  }
  out += `<path class="context" d="${linePath(downsampleMinMax(fold.context, t0, t1, buckets), x, y)}" fill="none" stroke="${CONTEXT_COLOR}" stroke-width="1.2"/>`;
  out += `<path class="actual" d="${linePath(downsampleMinMax(horizon(fold.actual), t0, t1, buckets), x, y)}" fill="none" stroke="${DEMAND_COLOR}" stroke-width="1.6"/>`;
  for (const m of fold.models) {
    const color = colors.get(m.name) ?? '#555';
    out += `<path class="mean" data-series="${escapeXml(m.name)}" d="${linePath(downsampleMinMax(horizon(m.mean), t0, t1, buckets), x, y)}" fill="none" stroke="${color}" stroke-width="1.5"/>`;
  }
  out += '</g>';
  out += `<line class="origin" x1="${origin}" x2="${origin}" y1="${area.top}" y2="${area.top + area.height}" stroke="#666" stroke-dasharray="3 3"/>`;
  return `${out}</g>`;
}
