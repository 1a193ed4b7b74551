// Axes with grid lines: nice-number value axes and UTC time axes.
import { escapeXml } from './escape.js';
import type { PlotArea } from './chart.js';
import { px } from './paths.js';
import type { Scale } from './scale.js';
import type { TimeTicks } from './ticks.js';

export interface ValueAxisOptions {
  label?: string;
  format: (value: number) => string;
  /** Draw horizontal grid lines across the plot (default true). */
  grid?: boolean;
}

export function leftAxis(scale: Scale, ticks: readonly number[], area: PlotArea, options: ValueAxisOptions): string {
  const right = area.left + area.width;
  let out = '<g class="axis axis-y">';
  for (const t of ticks) {
    const y = px(scale.map(t));
    if (options.grid !== false) out += `<line class="grid" x1="${area.left}" x2="${right}" y1="${y}" y2="${y}"/>`;
    out += `<text class="tick" x="${area.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(options.format(t))}</text>`;
  }
  out += `<line class="domain" x1="${area.left}" x2="${area.left}" y1="${area.top}" y2="${area.top + area.height}"/>`;
  if (options.label) {
    const cx = area.left - 48;
    const cy = area.top + area.height / 2;
    out += `<text class="axis-label" transform="translate(${cx} ${px(cy)}) rotate(-90)" text-anchor="middle">${escapeXml(options.label)}</text>`;
  }
  return `${out}</g>`;
}

export function bottomAxis(scale: Scale, ticks: readonly number[], area: PlotArea, options: ValueAxisOptions): string {
  const bottom = area.top + area.height;
  let out = '<g class="axis axis-x">';
  for (const t of ticks) {
    const x = px(scale.map(t));
    if (options.grid !== false) out += `<line class="grid" x1="${x}" x2="${x}" y1="${area.top}" y2="${bottom}"/>`;
    out += `<text class="tick" x="${x}" y="${bottom + 16}" text-anchor="middle">${escapeXml(options.format(t))}</text>`;
  }
  out += `<line class="domain" x1="${area.left}" x2="${area.left + area.width}" y1="${bottom}" y2="${bottom}"/>`;
  if (options.label) {
    out += `<text class="axis-label" x="${px(area.left + area.width / 2)}" y="${bottom + 36}" text-anchor="middle">${escapeXml(options.label)}</text>`;
  }
  return `${out}</g>`;
}

/** A time axis under `area`; `gridTop`/`gridBottom` let small multiples share one axis. */
export function timeAxis(
  scale: Scale,
  ticks: TimeTicks,
  area: PlotArea,
  options: { label?: boolean; gridTop?: number; showLabels?: boolean } = {},
): string {
  const bottom = area.top + area.height;
  const gridTop = options.gridTop ?? area.top;
  let out = '<g class="axis axis-time">';
  ticks.ticks.forEach((t, i) => {
    const x = px(scale.map(t));
    out += `<line class="grid" x1="${x}" x2="${x}" y1="${gridTop}" y2="${bottom}"/>`;
    if (options.showLabels === false) return;
    ticks.labels[i].forEach((line, row) => {
      out += `<text class="tick${row > 0 ? ' tick-date' : ''}" x="${x}" y="${bottom + 16 + row * 14}" text-anchor="middle">${escapeXml(line)}</text>`;
    });
  });
  out += `<line class="domain" x1="${area.left}" x2="${area.left + area.width}" y1="${bottom}" y2="${bottom}"/>`;
  if (options.label !== false && options.showLabels !== false) {
    out += `<text class="axis-label" x="${area.left + area.width}" y="${bottom + 44}" text-anchor="end">time (UTC)</text>`;
  }
  return `${out}</g>`;
}
