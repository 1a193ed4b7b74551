// HTML tables of results with the best value of each column highlighted.
import { escapeXml } from './svg/escape.js';

export interface Column<R> {
  label: string;
  /** Hover help for the header. */
  help?: string;
  value: (row: R) => number | null;
  format: (value: number | null) => string;
  /** How to find the best cell: lower or higher is better, or a score where lower is better. */
  best?: 'lower' | 'higher' | ((value: number) => number);
  /** Extra class for a cell, e.g. to mark ratios below 1. */
  cellClass?: (value: number | null) => string | undefined;
}

export interface TableOptions<R> {
  caption: string;
  rowLabel: string;
  name: (row: R) => string;
  /** Rows that take part in "best" highlighting (default: all). */
  ranked?: (row: R) => boolean;
  rowClass?: (row: R) => string | undefined;
}

export function dataTable<R>(rows: readonly R[], columns: readonly Column<R>[], options: TableOptions<R>): string {
  const ranked = rows.filter(options.ranked ?? (() => true));
  const bestValues = columns.map((column) => bestValue(ranked.map(column.value), column.best));
  let html = `<table class="results"><caption>${escapeXml(options.caption)}</caption><thead><tr><th scope="col">${escapeXml(options.rowLabel)}</th>`;
  for (const column of columns) {
    html += `<th scope="col"${column.help ? ` title="${escapeXml(column.help)}"` : ''}>${escapeXml(column.label)}</th>`;
  }
  html += '</tr></thead><tbody>';
  for (const row of rows) {
    const rowClass = options.rowClass?.(row);
    const isRanked = (options.ranked ?? (() => true))(row);
    html += `<tr${rowClass ? ` class="${escapeXml(rowClass)}"` : ''}><th scope="row">${escapeXml(options.name(row))}</th>`;
    columns.forEach((column, i) => {
      const value = column.value(row);
      const classes = [column.cellClass?.(value)];
      if (isRanked && value !== null && Number.isFinite(value) && value === bestValues[i]) classes.push('best');
      const cls = classes.filter(Boolean).join(' ');
      html += `<td${cls ? ` class="${escapeXml(cls)}"` : ''}>${escapeXml(column.format(value))}</td>`;
    });
    html += '</tr>';
  }
  return `${html}</tbody></table>`;
}

function bestValue(values: (number | null)[], best: Column<unknown>['best']): number | undefined {
  if (!best) return undefined;
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length < 2) return undefined;
  const score = best === 'lower' ? (v: number) => v : best === 'higher' ? (v: number) => -v : best;
  return finite.reduce((a, b) => (score(b) < score(a) ? b : a));
}
