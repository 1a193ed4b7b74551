// The `prescale backtest --report` page (SPEC section 6).
import { formatDuration } from '../api/units.js';
import type { BacktestReportData } from './types.js';
import { foldPanels, pickFolds } from './charts/folds.js';
import { maseBars } from './charts/mase-bars.js';
import { CATEGORICAL } from './colors.js';
import { duration, fixed, percent } from './format.js';
import { htmlPage, type PageSection } from './page.js';
import { createIdSource } from './svg/chart.js';
import { type Column, dataTable } from './table.js';

const FOLDS_SHOWN = 4;

type ModelRow = BacktestReportData['models'][number];

export function renderBacktestReport(data: BacktestReportData): string {
  const ids = createIdSource('bt');
  const names = [...new Set([...data.models.map((m) => m.name), ...data.folds.flatMap((f) => f.models.map((m) => m.name))])];
  const colors = new Map(names.map((name, i) => [name, CATEGORICAL[i % CATEGORICAL.length]]));
  const folds = pickFolds(data.folds, FOLDS_SHOWN);

  const sections: PageSection[] = [
    {
      id: 'mase',
      heading: 'Forecast error per model',
      intro:
        'MASE divides each model\'s mean absolute error over the horizon by the in-sample error of a seasonal-naive forecast ' +
        '(one-day season): below 1 beats that baseline.',
      html: maseBars(data.models, colors, ids),
    },
    { id: 'metrics', heading: 'All metrics', html: metricsTable(data.models, data.quantile) },
  ];
  const leads = leadTimes(data.models);
  if (leads.length > 0) {
    sections.push({
      id: 'windows',
      heading: 'Forecast error where the scaler decides',
      intro:
        `A scaler sizes replicas on the forecast's q${data.quantile} peak over [now + lead time, now + lead time + interval], ` +
        `now being the last observed point. Window MASE compares the mean forecast's peak there with the actual peak, on the MASE scale; ` +
        `coverage is the share of folds whose actual peak stayed at or below the q${data.quantile} peak (ideal ${data.quantile}); ` +
        'over- and under-forecast are the mean distances above and below the actual peak, also on the MASE scale.',
      html: leads.map((lead) => windowTable(data.models, lead, data.quantile, data.intervalMs)).join(''),
    });
  }
  if (folds.length > 0) {
    sections.push({
      id: 'folds',
      heading: 'Sample folds',
      intro: `${folds.length} of ${data.folds.length} folds, spread over the trace. Click a model in the legend to hide or show it.`,
      html: foldPanels(folds, names.filter((n) => folds.some((f) => f.models.some((m) => m.name === n))), colors, ids),
    });
  }

  return htmlPage({
    title: `prescale backtest — ${data.trace}`,
    facts: [
      ['generated', data.generatedAt],
      ['horizon', duration(data.horizonMs)],
      ['planning quantile', String(data.quantile)],
      ['interval', duration(data.intervalMs)],
      ['folds', String(data.folds.length)],
      ['models', String(data.models.length)],
    ],
    notes: data.notes,
    sections,
  });
}

function metricsTable(models: readonly ModelRow[], quantile: number): string {
  const columns: Column<ModelRow>[] = [
    { label: 'MASE', value: (m) => m.mase, format: (v) => fixed(v, 3), best: 'lower', cellClass: (v) => (v !== null && v < 1 ? 'good' : undefined) },
    { label: 'sMAPE', value: (m) => m.smape, format: (v) => (v === null || !Number.isFinite(v) ? fixed(v, 2) : `${fixed(v, 2)} %`), best: 'lower' },
    {
      label: `coverage of q${quantile}`,
      help: `Share of actual points at or below the q${quantile} forecast; ideal is ${quantile}`,
      value: (m) => m.coverage,
      format: (v) => percent(v, 1),
      best: (v) => Math.abs(v - quantile),
    },
    { label: 'fit (s)', value: (m) => m.fitSeconds, format: (v) => fixed(v, 3), best: 'lower' },
    { label: 'predict (ms)', value: (m) => m.predictMillis, format: (v) => fixed(v, 2), best: 'lower' },
  ];
  return dataTable(models, columns, {
    caption: `Mean over the folds. Best per column highlighted (coverage: closest to ${quantile}); — means no score.`,
    rowLabel: 'model',
    name: (m) => m.name,
  });
}

/** The lead times scored, in the order of the first model that has them. */
function leadTimes(models: readonly ModelRow[]): number[] {
  return [...new Set(models.flatMap((m) => m.windows.map((w) => w.leadMs)))];
}

function windowTable(models: readonly ModelRow[], leadMs: number, quantile: number, intervalMs: number): string {
  const score = (m: ModelRow) => m.windows.find((w) => w.leadMs === leadMs);
  const field = (key: 'mase' | 'coverage' | 'overForecast' | 'underForecast') => (m: ModelRow) => score(m)?.[key] ?? null;
  const columns: Column<ModelRow>[] = [
    { label: 'window MASE', value: field('mase'), format: (v) => fixed(v, 3), best: 'lower', cellClass: (v) => (v !== null && v < 1 ? 'good' : undefined) },
    {
      label: `coverage of q${quantile} peak`,
      help: `Share of folds whose actual peak was at or below the q${quantile} forecast peak; ideal is ${quantile}`,
      value: field('coverage'),
      format: (v) => percent(v, 1),
      best: (v) => Math.abs(v - quantile),
    },
    { label: 'over-forecast', help: 'Mean of max(0, quantile peak - actual peak) / MASE scale: the capacity the band adds', value: field('overForecast'), format: (v) => fixed(v, 3), best: 'lower' },
    { label: 'under-forecast', help: 'Mean of max(0, actual peak - quantile peak) / MASE scale: how far short the plan fell', value: field('underForecast'), format: (v) => fixed(v, 3), best: 'lower' },
    { label: 'folds', value: (m) => score(m)?.folds ?? null, format: (v) => fixed(v, 0) },
  ];
  return dataTable(models, columns, {
    caption: `Lead time ${formatDuration(leadMs)}: peak over [now + ${formatDuration(leadMs)}, now + ${formatDuration(leadMs + intervalMs)}]. Mean over the folds; — means no score.`,
    rowLabel: 'model',
    name: (m) => m.name,
  });
}
