// Demand against Ready capacity over time: one small-multiple panel per policy with the
// under-provisioned spans shaded, and an overlay of all policies around the demand peak.
import type { PolicyTimeline } from '../types.js';
import type { TimeSeriesData } from '../../simulate/types.js';
import { DEMAND_COLOR, UNDER_SHADE } from '../colors.js';
import { compact, duration, percent, tickFormatter } from '../format.js';
import { leftAxis, timeAxis } from '../svg/axes.js';
import { type IdSource, type PlotArea, TITLE_HEIGHT, clipTo, svgChart } from '../svg/chart.js';
import { downsampleMinMax, exceedanceSpans, type ShadedSpan } from '../svg/downsample.js';
import { escapeXml } from '../svg/escape.js';
import { legend, legendHeight, type LegendItem } from '../svg/legend.js';
import { linePath, px, stepPath } from '../svg/paths.js';
import { scaleLinear, type Scale } from '../svg/scale.js';
import { niceTicks, timeTicks } from '../svg/ticks.js';
import { hoverAttributes, maxOf, type TimeWindow } from './time-window.js';

const WIDTH = 960;
const LEFT = 80;
const RIGHT = 24;
const PANEL_HEIGHT = 92;
const PANEL_GAP = 30;

/** One plot with a panel per policy, all on the same time and value scales. */
export function capacityPanels(
  demand: TimeSeriesData,
  policies: readonly PolicyTimeline[],
  colors: ReadonlyMap<string, string>,
  window: TimeWindow,
  ids: IdSource,
): string {
  const items: LegendItem[] = [
    { label: 'demand', color: DEMAND_COLOR, swatch: 'line' },
    { label: 'Ready capacity (replicas × capacity per replica)', color: '#5a7fa8', swatch: 'step' },
    { label: 'under-provisioned (darker: more of the minutes in that pixel column)', color: UNDER_SHADE, swatch: 'shade' },
  ];
  const plotWidth = WIDTH - LEFT - RIGHT;
  const legendTop = TITLE_HEIGHT + 2;
  const firstTop = legendTop + legendHeight(items, plotWidth) + PANEL_GAP;
  const height = firstTop + policies.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + 52;
  const yAxis = niceTicks(0, maxOf(demand.values, ...policies.map((p) => p.readyCapacity.values)) || 1, 3);
  const ticks = timeTicks(window.t0, window.t1, 8);
  const demandPoints = downsampleMinMax(demand, window.t0, window.t1, plotWidth);

  let body = legend(items, LEFT, legendTop, plotWidth);
  let lastArea: PlotArea | undefined;
  policies.forEach((policy, index) => {
    const area: PlotArea = { left: LEFT, top: firstTop + index * (PANEL_HEIGHT + PANEL_GAP), width: plotWidth, height: PANEL_HEIGHT };
    const x = scaleLinear([window.t0, window.t1], [area.left, area.left + area.width]);
    const y = scaleLinear([yAxis.min, yAxis.max], [area.top + area.height, area.top]);
    const clip = clipTo(area, ids);
    const color = colors.get(policy.name) ?? '#555';
    const r = policy.result;
    const caption = `under-provisioned ${compact(r.underProvisionedMinutes)} min (${percent(r.underProvisionedFraction)}) · ${compact(r.replicaMinutes)} replica-min · ${compact(r.scaleEvents)} scale events`;
    body += `<g class="panel" data-series="${escapeXml(policy.name)}">${clip.defs}`;
    body += `<text class="panel-title" x="${area.left}" y="${area.top - 8}"><tspan class="panel-name" fill="${color}">${escapeXml(policy.name)}</tspan><tspan dx="10">${escapeXml(caption)}</tspan></text>`;
    body += timeAxis(x, ticks, area, { showLabels: index === policies.length - 1 });
    body += leftAxis(y, yAxis.ticks, area, { format: tickFormatter(yAxis) });
    body += `<g ${clip.attribute}>`;
    body += shadedSpans(exceedanceSpans(demand, policy.readyCapacity, window.t0, window.t1, plotWidth), x, area);
    body += capacityPath(policy, window, plotWidth, x, y, color);
    body += `<path class="demand" d="${linePath(demandPoints, x, y)}" fill="none" stroke="${DEMAND_COLOR}" stroke-width="0.8"/>`;
    body += '</g></g>';
    lastArea = area;
  });
  const axisLabelY = firstTop + (policies.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP) / 2;
  body += `<text class="axis-label" transform="translate(${LEFT - 52} ${px(axisLabelY)}) rotate(-90)" text-anchor="middle">demand / capacity</text>`;
  const hover = lastArea ? hoverAttributes({ ...lastArea, top: firstTop, height: lastArea.top + lastArea.height - firstTop }, window) : {};

  return svgChart(
    {
      width: WIDTH,
      height,
      title: 'Demand vs Ready capacity, per policy',
      description:
        `${policies.length} panels, one per policy, sharing time and value scales. Each shows demand as a line and the capacity of Ready ` +
        'replicas as a step line; minutes where demand exceeded Ready capacity are shaded.',
      plot: 'capacity-panels',
      attributes: hover,
    },
    ids,
    body,
  );
}

/** All policies overlaid on a short window, each line toggled from the legend. */
export function capacityOverlay(
  demand: TimeSeriesData,
  policies: readonly PolicyTimeline[],
  colors: ReadonlyMap<string, string>,
  window: TimeWindow,
  ids: IdSource,
): string {
  const items: LegendItem[] = [
    { label: 'demand', color: DEMAND_COLOR, swatch: 'line' },
    ...policies.map((p): LegendItem => ({ label: p.name, color: colors.get(p.name) ?? '#555', swatch: 'step', series: p.name })),
  ];
  const plotWidth = WIDTH - LEFT - RIGHT;
  const legendTop = TITLE_HEIGHT + 2;
  const top = legendTop + legendHeight(items, plotWidth) + 14;
  const height = top + 300 + 56;
  const area: PlotArea = { left: LEFT, top, width: plotWidth, height: 300 };
  const inWindow = (s: TimeSeriesData): number[] => downsampleMinMax(s, window.t0, window.t1, plotWidth).map((p) => p.y);
  const yAxis = niceTicks(0, maxOf(inWindow(demand), ...policies.map((p) => inWindow(p.readyCapacity))) * 1.05 || 1, 6);
  const x = scaleLinear([window.t0, window.t1], [area.left, area.left + area.width]);
  const y = scaleLinear([yAxis.min, yAxis.max], [area.top + area.height, area.top]);
  const clip = clipTo(area, ids);

  let body = clip.defs + legend(items, LEFT, legendTop, plotWidth);
  body += timeAxis(x, timeTicks(window.t0, window.t1, 8), area);
  body += leftAxis(y, yAxis.ticks, area, { label: 'demand / capacity', format: tickFormatter(yAxis) });
  body += `<g ${clip.attribute}>`;
  for (const policy of policies) body += capacityPath(policy, window, plotWidth, x, y, colors.get(policy.name) ?? '#555');
  body += `<path class="demand" d="${linePath(downsampleMinMax(demand, window.t0, window.t1, plotWidth), x, y)}" fill="none" stroke="${DEMAND_COLOR}" stroke-width="2"/>`;
  body += '</g>';

  return svgChart(
    {
      width: WIDTH,
      height,
      title: `Around the demand peak (${duration(window.t1 - window.t0)}): all policies`,
      description:
        'Demand and the Ready capacity of every policy over a short window around the highest demand, where scaling late shows. ' +
        'Click a legend entry to hide or show that policy.',
      plot: 'capacity-overlay',
      attributes: hoverAttributes(area, window, y),
    },
    ids,
    body,
  );
}

function capacityPath(policy: PolicyTimeline, window: TimeWindow, buckets: number, x: Scale, y: Scale, color: string): string {
  const points = downsampleMinMax(policy.readyCapacity, window.t0, window.t1, buckets);
  const last = points[points.length - 1];
  const end = last ? Math.min(window.t1, last.x + policy.readyCapacity.stepMs) : undefined;
  return `<path class="capacity" data-series="${escapeXml(policy.name)}" d="${stepPath(points, x, y, end)}" fill="none" stroke="${color}" stroke-width="1.5"/>`;
}

function shadedSpans(spans: readonly ShadedSpan[], x: Scale, area: PlotArea): string {
  const byShare = new Map<number, string>();
  for (const span of spans) {
    const left = x.map(span.start);
    const width = Math.max(1, x.map(span.end) - left);
    const d = `M${px(left)} ${area.top}h${px(width)}v${area.height}h${px(-width)}Z`;
    byShare.set(span.share, (byShare.get(span.share) ?? '') + d);
  }
  return [...byShare.entries()]
    .map(([share, d]) => `<path class="under" d="${d}" fill="${UNDER_SHADE}" fill-opacity="${0.15 + 0.45 * share}"/>`)
    .join('');
}
