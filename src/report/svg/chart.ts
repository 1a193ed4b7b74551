// The frame every chart shares: an <svg> with an accessible title and description, a plot area
// inside margins, and a clip path so lines never spill over the axes.
import { escapeXml } from './escape.js';

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** The plot area in SVG coordinates. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Unique element ids for one page (several charts reference their own clip paths). */
export type IdSource = (hint: string) => string;

export function createIdSource(prefix: string): IdSource {
  let next = 0;
  return (hint) => `${prefix}-${hint.replace(/[^a-zA-Z0-9-]/g, '')}-${++next}`;
}

export interface ChartSpec {
  width: number;
  height: number;
  /** Shown above the plot and used as the SVG's accessible name. */
  title: string;
  /** What the chart shows, for screen readers. */
  description: string;
  /** Names the plot for tests and scripts (data-plot attribute). */
  plot: string;
  /** Extra attributes on the <svg> element (numbers or already safe strings are escaped anyway). */
  attributes?: Record<string, string | number>;
}

export const TITLE_HEIGHT = 26;

export function svgChart(spec: ChartSpec, ids: IdSource, body: string): string {
  const titleId = ids('title');
  const descId = ids('desc');
  const extra = Object.entries(spec.attributes ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${spec.width} ${spec.height}" ` +
    `width="${spec.width}" height="${spec.height}" role="img" aria-labelledby="${titleId} ${descId}" ` +
    `data-plot="${escapeXml(spec.plot)}"${extra}>` +
    `<title id="${titleId}">${escapeXml(spec.title)}</title>` +
    `<desc id="${descId}">${escapeXml(spec.description)}</desc>` +
    `<text class="chart-title" x="8" y="18">${escapeXml(spec.title)}</text>` +
    body +
    `</svg>`
  );
}

/** A clip path for `area` (returns the definition and the attribute to put on clipped groups). */
export function clipTo(area: PlotArea, ids: IdSource): { defs: string; attribute: string } {
  const id = ids('clip');
  return {
    defs: `<defs><clipPath id="${id}"><rect x="${area.left}" y="${area.top - 1}" width="${area.width}" height="${area.height + 2}"/></clipPath></defs>`,
    attribute: `clip-path="url(#${id})"`,
  };
}

/** Rough width of a label at the chart font size: enough for layout without measuring text. */
export function textWidth(text: string, fontSize = 12): number {
  return text.length * fontSize * 0.58;
}
