// The cost / under-provisioning frontier: HPA target sweep as a connected line, prescale runs as
// points (joined by a dashed line: their own frontier), the oracle as a diamond.
import { compact } from '../format.js';
import { HPA_COLOR, ORACLE_COLOR, PRESCALE_COLOR, type PolicyKind } from '../colors.js';
import { bottomAxis, leftAxis } from '../svg/axes.js';
import { type IdSource, type PlotArea, TITLE_HEIGHT, clipTo, svgChart, textWidth } from '../svg/chart.js';
import { escapeXml } from '../svg/escape.js';
import { legend, legendHeight, type LegendItem } from '../svg/legend.js';
import { linePath, px } from '../svg/paths.js';
import { scaleLinear, type Scale } from '../svg/scale.js';
import { niceTicks } from '../svg/ticks.js';
import { tickFormatter } from '../format.js';

export interface FrontierPoint {
  name: string;
  kind: PolicyKind;
  replicaMinutes: number;
  underProvisionedMinutes: number;
}

const WIDTH = 960;
const HEIGHT = 470;

export function frontierChart(points: readonly FrontierPoint[], ids: IdSource): string {
  const finite = points.filter((p) => Number.isFinite(p.replicaMinutes) && Number.isFinite(p.underProvisionedMinutes));
  const items: LegendItem[] = [
    { label: 'HPA target sweep (hpa@U)', color: HPA_COLOR, swatch: 'line' },
    { label: 'prescale runs (prescale@qQ)', color: PRESCALE_COLOR, swatch: 'point' },
    { label: 'oracle (lower bound)', color: ORACLE_COLOR, swatch: 'diamond' },
  ];
  const legendTop = TITLE_HEIGHT + 2;
  const top = legendTop + legendHeight(items, WIDTH - 100) + 16;
  const area: PlotArea = { left: 80, top, width: WIDTH - 80 - 40, height: HEIGHT - top - 52 };

  const xs = finite.map((p) => p.replicaMinutes);
  const ys = finite.map((p) => p.underProvisionedMinutes);
  const xMin = Math.min(...xs, Infinity);
  const xMax = Math.max(...xs, -Infinity);
  const xPad = (xMax - xMin || Math.abs(xMax) || 1) * 0.06;
  const xAxis = niceTicks(xs.length ? xMin - xPad : 0, xs.length ? xMax + xPad : 1, 8);
  const yAxis = niceTicks(0, Math.max(...ys, 0) * 1.08 || 1, 6);
  const x = scaleLinear([xAxis.min, xAxis.max], [area.left, area.left + area.width]);
  const y = scaleLinear([yAxis.min, yAxis.max], [area.top + area.height, area.top]);
  const clip = clipTo(area, ids);

  const byCost = (kind: PolicyKind): FrontierPoint[] =>
    finite.filter((p) => p.kind === kind).sort((a, b) => a.replicaMinutes - b.replicaMinutes);
  const hpa = byCost('hpa');
  const prescale = byCost('prescale');
  const toPoints = (list: FrontierPoint[]) => list.map((p) => ({ x: p.replicaMinutes, y: p.underProvisionedMinutes }));

  let body = clip.defs;
  body += legend(items, 80, legendTop, WIDTH - 100);
  body += leftAxis(y, yAxis.ticks, area, { label: 'under-provisioned minutes', format: tickFormatter(yAxis) });
  body += bottomAxis(x, xAxis.ticks, area, { label: 'replica-minutes (cost)', format: tickFormatter(xAxis) });
  body += `<g ${clip.attribute}>`;
  body += `<path class="frontier-line" data-series="hpa" d="${linePath(toPoints(hpa), x, y)}" fill="none" stroke="${HPA_COLOR}" stroke-width="2"/>`;
  body += `<path class="frontier-line" data-series="prescale" d="${linePath(toPoints(prescale), x, y)}" fill="none" stroke="${PRESCALE_COLOR}" stroke-width="1.5" stroke-dasharray="5 4" stroke-opacity="0.8"/>`;
  body += '</g>';

  const placed: Box[] = finite.map((p) => pointBox(x.map(p.replicaMinutes), y.map(p.underProvisionedMinutes)));
  // Draw the oracle last among markers so it is never hidden.
  const drawOrder = [...hpa, ...prescale, ...finite.filter((p) => p.kind === 'oracle')];
  for (const p of drawOrder) body += marker(p, x, y);
  for (const p of drawOrder) body += label(p, x, y, area, placed);

  return svgChart(
    {
      width: WIDTH,
      height: HEIGHT,
      title: 'Cost vs under-provisioning frontier',
      description:
        `Replica-minutes on the horizontal axis against under-provisioned minutes on the vertical axis for ${finite.length} policies. ` +
        'Lower and further left is better. HPA runs with different target utilizations form a connected line; prescale runs are points.',
      plot: 'frontier',
    },
    ids,
    body,
  );
}

function marker(p: FrontierPoint, x: Scale, y: Scale): string {
  const cx = px(x.map(p.replicaMinutes));
  const cy = px(y.map(p.underProvisionedMinutes));
  const tip = `<title>${escapeXml(p.name)}: ${compact(p.replicaMinutes)} replica-minutes, ${compact(p.underProvisionedMinutes)} under-provisioned minutes</title>`;
  const series = escapeXml(p.name);
  if (p.kind === 'oracle') {
    return `<path class="point point-oracle" data-series="${series}" transform="translate(${cx} ${cy})" d="M0 -8L8 0L0 8L-8 0Z" fill="${ORACLE_COLOR}" stroke="#fff" stroke-width="1.5">${tip}</path>`;
  }
  const color = p.kind === 'hpa' ? HPA_COLOR : PRESCALE_COLOR;
  return `<circle class="point point-${p.kind}" data-series="${series}" cx="${cx}" cy="${cy}" r="5.5" fill="${color}" stroke="#fff" stroke-width="1.5">${tip}</circle>`;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function pointBox(cx: number, cy: number): Box {
  return { x0: cx - 6, y0: cy - 6, x1: cx + 6, y1: cy + 6 };
}

/**
 * Puts the label where it overlaps no point and no earlier label: first right next to the point,
 * then stacked further away with a leader line back to the point.
 */
function label(p: FrontierPoint, x: Scale, y: Scale, area: PlotArea, placed: Box[]): string {
  const cx = x.map(p.replicaMinutes);
  const cy = y.map(p.underProvisionedMinutes);
  const w = textWidth(p.name, 11);
  const h = 12;
  const candidates: [number, number, 'start' | 'end'][] = [
    [cx + 9, cy - 7, 'start'],
    [cx + 9, cy + 15, 'start'],
    [cx - 9, cy - 7, 'end'],
    [cx - 9, cy + 15, 'end'],
  ];
  for (let level = 1; level <= 8; level++) {
    const dy = 7 + level * 15;
    candidates.push([cx + 6, cy - dy, 'start'], [cx - 6, cy - dy, 'end'], [cx + 6, cy + dy + 8, 'start'], [cx - 6, cy + dy + 8, 'end']);
  }
  const boxOf = ([tx, ty, anchor]: [number, number, 'start' | 'end']): Box =>
    anchor === 'start' ? { x0: tx, y0: ty - h + 2, x1: tx + w, y1: ty + 2 } : { x0: tx - w, y0: ty - h + 2, x1: tx, y1: ty + 2 };
  const inside = (b: Box): boolean => b.x0 >= area.left && b.x1 <= area.left + area.width && b.y0 >= area.top && b.y1 <= area.top + area.height;
  const free = (b: Box): boolean => placed.every((o) => b.x1 <= o.x0 || b.x0 >= o.x1 || b.y1 <= o.y0 || b.y0 >= o.y1);
  const choice = candidates.find((c) => inside(boxOf(c)) && free(boxOf(c))) ?? candidates.find((c) => inside(boxOf(c))) ?? candidates[0];
  const box = boxOf(choice);
  placed.push(box);
  let out = '';
  if (Math.abs(choice[1] - cy) > 16) {
    const ly = choice[1] < cy ? box.y1 : box.y0;
    out += `<line class="leader" x1="${px(cx)}" y1="${px(cy + Math.sign(ly - cy) * 6)}" x2="${px(choice[0])}" y2="${px(ly)}" stroke="#999" stroke-width="0.8"/>`;
  }
  return `${out}<text class="point-label label-${p.kind}" x="${px(choice[0])}" y="${px(choice[1])}" text-anchor="${choice[2]}">${escapeXml(p.name)}</text>`;
}
