// A legend that flows left to right and wraps; items with a series id toggle that series on click.
import { escapeXml } from './escape.js';
import { textWidth } from './chart.js';

export type Swatch = 'line' | 'dashed' | 'step' | 'band' | 'point' | 'diamond' | 'shade';

export interface LegendItem {
  label: string;
  color: string;
  swatch: Swatch;
  /** The data-series value of the elements this item stands for (enables click-to-toggle). */
  series?: string;
}

const ROW_HEIGHT = 18;
const SWATCH_WIDTH = 22;

export function legendHeight(items: readonly LegendItem[], maxWidth: number): number {
  return layout(items, maxWidth).rows * ROW_HEIGHT;
}

export function legend(items: readonly LegendItem[], x: number, y: number, maxWidth: number): string {
  const { positions } = layout(items, maxWidth);
  let out = '<g class="legend">';
  items.forEach((item, i) => {
    const [dx, row] = positions[i];
    const top = y + row * ROW_HEIGHT;
    const mid = top + ROW_HEIGHT / 2;
    const toggle = item.series !== undefined ? ` class="legend-item toggle" data-toggle="${escapeXml(item.series)}"` : ' class="legend-item"';
    out += `<g${toggle} transform="translate(${x + dx} 0)">`;
    out += swatch(item, mid);
    out += `<text x="${SWATCH_WIDTH + 4}" y="${mid}" dominant-baseline="middle">${escapeXml(item.label)}</text></g>`;
  });
  return `${out}</g>`;
}

function swatch(item: LegendItem, mid: number): string {
  const c = escapeXml(item.color);
  switch (item.swatch) {
    case 'line':
      return `<line x1="0" x2="${SWATCH_WIDTH}" y1="${mid}" y2="${mid}" stroke="${c}" stroke-width="2"/>`;
    case 'dashed':
      return `<line x1="0" x2="${SWATCH_WIDTH}" y1="${mid}" y2="${mid}" stroke="${c}" stroke-width="2" stroke-dasharray="4 3"/>`;
    case 'step':
      return `<path d="M0 ${mid + 4}H8V${mid - 4}H16V${mid + 1}H${SWATCH_WIDTH}" fill="none" stroke="${c}" stroke-width="2"/>`;
    case 'band':
      return `<rect x="0" y="${mid - 6}" width="${SWATCH_WIDTH}" height="12" fill="${c}" fill-opacity="0.35" stroke="${c}" stroke-opacity="0.6"/>`;
    case 'shade':
      return `<rect x="0" y="${mid - 6}" width="${SWATCH_WIDTH}" height="12" fill="${c}" fill-opacity="0.5"/>`;
    case 'point':
      return `<circle cx="${SWATCH_WIDTH / 2}" cy="${mid}" r="4.5" fill="${c}" stroke="#fff"/>`;
    case 'diamond':
      return `<path d="M${SWATCH_WIDTH / 2} ${mid - 6}l6 6l-6 6l-6 -6Z" fill="${c}" stroke="#fff"/>`;
  }
}

function layout(items: readonly LegendItem[], maxWidth: number): { positions: [number, number][]; rows: number } {
  const positions: [number, number][] = [];
  let x = 0;
  let row = 0;
  for (const item of items) {
    const width = SWATCH_WIDTH + 4 + textWidth(item.label) + 18;
    if (x > 0 && x + width > maxWidth) {
      x = 0;
      row++;
    }
    positions.push([x, row]);
    x += width;
  }
  return { positions, rows: items.length === 0 ? 0 : row + 1 };
}
