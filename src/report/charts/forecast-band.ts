// Forecast vs actual: the band between the lower and the planning quantile, the mean, the actual.
import type { ForecastBand } from '../types.js';
import { BAND_COLOR, DEMAND_COLOR, PRESCALE_COLOR } from '../colors.js';
import { duration, tickFormatter } from '../format.js';
import { leftAxis, timeAxis } from '../svg/axes.js';
import { type IdSource, type PlotArea, TITLE_HEIGHT, clipTo, svgChart } from '../svg/chart.js';
import { downsampleEnvelope, downsampleMinMax } from '../svg/downsample.js';
import { legend, legendHeight, type LegendItem } from '../svg/legend.js';
import { bandPath, linePath } from '../svg/paths.js';
import { scaleLinear } from '../svg/scale.js';
import { niceTicks, timeTicks } from '../svg/ticks.js';
import { hoverAttributes, maxOf, type TimeWindow } from './time-window.js';

const WIDTH = 960;
const LEFT = 80;
const RIGHT = 24;

export function forecastChart(band: ForecastBand, window: TimeWindow, title: string, plot: string, ids: IdSource): string {
  const items: LegendItem[] = [
    { label: `forecast band (lower .. q${band.quantile})`, color: BAND_COLOR, swatch: 'band' },
    { label: 'forecast mean', color: PRESCALE_COLOR, swatch: 'line' },
    { label: 'actual', color: DEMAND_COLOR, swatch: 'line' },
  ];
  const plotWidth = WIDTH - LEFT - RIGHT;
  const legendTop = TITLE_HEIGHT + 2;
  const top = legendTop + legendHeight(items, plotWidth) + 14;
  const area: PlotArea = { left: LEFT, top, width: plotWidth, height: 260 };
  const height = top + area.height + 56;

  const envelope = downsampleEnvelope(band.lower, band.upper, window.t0, window.t1, plotWidth);
  const mean = downsampleMinMax(band.mean, window.t0, window.t1, plotWidth);
  const actual = downsampleMinMax(band.actual, window.t0, window.t1, plotWidth);
  const yMax = maxOf(envelope.map((p) => p.hi), mean.map((p) => p.y), actual.map((p) => p.y));
  const yAxis = niceTicks(0, yMax * 1.05 || 1, 6);
  const x = scaleLinear([window.t0, window.t1], [area.left, area.left + area.width]);
  const y = scaleLinear([yAxis.min, yAxis.max], [area.top + area.height, area.top]);
  const clip = clipTo(area, ids);

  let body = clip.defs + legend(items, LEFT, legendTop, plotWidth);
  body += timeAxis(x, timeTicks(window.t0, window.t1, 8), area);
  body += leftAxis(y, yAxis.ticks, area, { label: 'demand', format: tickFormatter(yAxis) });
  body += `<g ${clip.attribute}>`;
  body += `<path class="band" data-series="band" d="${bandPath(envelope, x, y)}" fill="${BAND_COLOR}" fill-opacity="0.45" stroke="none"/>`;
  body += `<path class="mean" data-series="mean" d="${linePath(mean, x, y)}" fill="none" stroke="${PRESCALE_COLOR}" stroke-width="1.5"/>`;
  body += `<path class="actual" data-series="actual" d="${linePath(actual, x, y)}" fill="none" stroke="${DEMAND_COLOR}" stroke-width="1"/>`;
  body += '</g>';

  return svgChart(
    {
      width: WIDTH,
      height,
      title,
      description:
        `Forecasts of the ${band.model} model made ${duration(band.aheadMs)} ahead: the shaded band spans the lower quantile to ` +
        `quantile ${band.quantile}, the blue line is the forecast mean and the dark line the actual demand.`,
      plot,
      attributes: hoverAttributes(area, window, y),
    },
    ids,
    body,
  );
}

/** Share of actual points at or below the band's upper line (what the planning quantile promises). */
export function upperCoverage(band: ForecastBand): number {
  let covered = 0;
  let count = 0;
  band.actual.values.forEach((a, i) => {
    const t = band.actual.start + i * band.actual.stepMs;
    const u = band.upper.values[Math.round((t - band.upper.start) / band.upper.stepMs)];
    if (!Number.isFinite(a) || !Number.isFinite(u)) return;
    count++;
    if (a <= u) covered++;
  });
  return count > 0 ? covered / count : NaN;
}
