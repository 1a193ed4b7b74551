// True 1-minute traces for the cost bench. None of the shared dev traces is finer than 5 minutes;
// the only finer data is the Alibaba 2018 cluster average sampled every 30 s (raw/, 8 days), so a
// 1-minute point here is the mean of two 30-second bins: an aggregation of finer samples, never an
// interpolation of coarser ones.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
export const WEEK_MINUTES = 7 * DAY_MINUTES;
const TRACE_DAYS = 8;
/** The file has no timestamps; the dev copy of this trace starts here too (nominal). */
const NOMINAL_START_MS = Date.parse('2018-01-01T00:00:00Z');
const ALIBABA_FILE = 'alibaba-2018-machine-usage/machine_usage_days_1_to_8_grouped_30_seconds.csv';
/** Columns of that file used as separate traces. */
export const ALIBABA_COLUMNS = ['cpu_util_percent', 'mem_util_percent', 'net_in'];

/**
 * The last 7 days of one column at 1-minute steps, as a Series. Day 2 of the source lacks about
 * 5 h at its start, concatenated without a marker: rows of day 1 keep their place, later rows are
 * aligned to end with day 8, and the missing stretch becomes NaN (the forecaster fills gaps).
 */
export async function alibabaWeek(rawDir, column) {
  const [header, ...rows] = (await readFile(join(rawDir, ALIBABA_FILE), 'utf8')).trim().split('\n');
  const index = header.split(',').indexOf(column);
  if (index < 0) throw new Error(`${ALIBABA_FILE} has no column ${column}`);
  const halfMinutes = rows.map((row) => Number(row.split(',')[index]));
  const minutes = [];
  for (let i = 0; i + 1 < halfMinutes.length; i += 2) minutes.push((halfMinutes[i] + halfMinutes[i + 1]) / 2);
  const grid = new Array(TRACE_DAYS * DAY_MINUTES).fill(NaN);
  const dayOne = minutes.slice(0, DAY_MINUTES);
  const rest = minutes.slice(DAY_MINUTES);
  dayOne.forEach((v, i) => (grid[i] = v));
  rest.forEach((v, i) => (grid[grid.length - rest.length + i] = v));
  const from = grid.length - WEEK_MINUTES;
  const values = grid.slice(from);
  return {
    name: `alibaba-2018-${column.replace(/_/g, '-')}`,
    source: `raw/${ALIBABA_FILE} (column ${column}, pairs of 30 s bins averaged)`,
    missingMinutes: values.filter((v) => !Number.isFinite(v)).length,
    series: { start: NOMINAL_START_MS + from * MINUTE_MS, stepMs: MINUTE_MS, values },
  };
}
