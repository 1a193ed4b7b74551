// The `prescale simulate --report` page (SPEC section 6).
import type { FrontierSummary } from '../simulate/types.js';
import type { PolicyTimeline, SimulationReportData } from './types.js';
import { capacityOverlay, capacityPanels } from './charts/capacity.js';
import { forecastChart, upperCoverage } from './charts/forecast-band.js';
import { frontierChart } from './charts/frontier.js';
import { peakWindow, seriesWindow } from './charts/time-window.js';
import { policyColors, policyParameter } from './colors.js';
import { compact, duration, fixed, grouped, percent, utc } from './format.js';
import { htmlPage, type PageSection } from './page.js';
import { createIdSource } from './svg/chart.js';
import { type Column, dataTable } from './table.js';

const OVERLAY_WINDOW_MS = 6 * 3_600_000;
const KIND_ORDER = { oracle: 0, hpa: 1, prescale: 2 } as const;

export function renderSimulationReport(data: SimulationReportData): string {
  const ids = createIdSource('sim');
  const policies = orderPolicies(data.policies);
  const colors = policyColors(policies);
  const summary = new Map(data.summary.map((s) => [s.policy, s]));
  const whole = seriesWindow(data.demand);
  const peak = peakWindow(data.demand, OVERLAY_WINDOW_MS);

  const sections: PageSection[] = [
    {
      id: 'frontier',
      heading: 'Cost vs under-provisioning',
      intro:
        'Each point is one policy run over the evaluated span. The HPA runs (one per target utilization) form the frontier that ' +
        'tuning the HPA can reach; a prescale point below or left of that line buys less under-provisioning for the same cost.',
      html: frontierChart(
        policies.map((p) => ({
          name: p.name,
          kind: p.kind,
          replicaMinutes: p.result.replicaMinutes,
          underProvisionedMinutes: p.result.underProvisionedMinutes,
        })),
        ids,
      ),
    },
    {
      id: 'results',
      heading: 'Results',
      html: resultsTable(policies, summary),
    },
  ];
  if (policies.length > 0) {
    sections.push({
      id: 'capacity',
      heading: 'Demand vs Ready capacity',
      intro:
        'Per policy, demand against the capacity of Ready replicas; shaded spans are minutes where demand exceeded it. ' +
        'Long runs are drawn at one minimum and maximum per pixel column.',
      html: capacityPanels(data.demand, policies, colors, whole, ids) + capacityOverlay(data.demand, policies, colors, peak, ids),
    });
  }
  if (data.forecast) sections.push(forecastSection(data.forecast, peak, ids));

  return htmlPage({
    title: `prescale simulate — ${data.trace}`,
    facts: [
      ['generated', data.generatedAt],
      ['evaluated', `${grouped(data.evaluatedMinutes)} min (${duration(data.evaluatedMinutes * 60_000)})`],
      ['from', utc(whole.t0)],
      ['capacity per replica', compact(data.capacityPerReplica)],
      ['startup delay', duration(data.startupDelaySeconds * 1000)],
      ['metric lag', duration(data.metricLagSeconds * 1000)],
      ['policies', String(policies.length)],
    ],
    headline: headline(data.summary),
    notes: data.notes,
    sections,
  });
}

function orderPolicies(policies: readonly PolicyTimeline[]): PolicyTimeline[] {
  return [...policies].sort((a, b) => {
    const byKind = KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
    if (byKind !== 0) return byKind;
    const pa = policyParameter(a.name);
    const pb = policyParameter(b.name);
    // HPA: highest target (cheapest) first; prescale: lowest quantile (cheapest) first.
    return (a.kind === 'hpa' ? pb - pa : pa - pb) || a.name.localeCompare(b.name);
  });
}

function headline(summary: readonly FrontierSummary[]): string | undefined {
  const byUnder = best(summary, (s) => s.underRatioAtEqualCost);
  const byCost = best(summary, (s) => s.costRatioAtEqualUnder);
  const parts: string[] = [];
  if (byUnder) {
    parts.push(
      `At equal cost, ${byUnder.policy} has ${fixed(byUnder.underRatioAtEqualCost, 2)}× the under-provisioned minutes of the best-tuned HPA.`,
    );
  }
  if (byCost) {
    parts.push(
      `For the same under-provisioning, ${byCost.policy} needs ${fixed(byCost.costRatioAtEqualUnder, 2)}× the replica-minutes of the HPA.`,
    );
  }
  if (parts.length === 0 && summary.length > 0) {
    return 'No prescale run falls within the range of the HPA frontier, so there is no equal-cost comparison.';
  }
  return parts.length ? `${parts.join(' ')} Below 1 is better than the HPA.` : undefined;
}

function best(summary: readonly FrontierSummary[], ratio: (s: FrontierSummary) => number | null): FrontierSummary | undefined {
  return summary
    .filter((s) => ratio(s) !== null && Number.isFinite(ratio(s)))
    .reduce<FrontierSummary | undefined>((a, b) => (!a || (ratio(b) as number) < (ratio(a) as number) ? b : a), undefined);
}

/** Minutes are counted in 15-second ticks, so a fraction is real information. */
function wholeOrTenths(value: number | null): string {
  return fixed(value, value !== null && !Number.isInteger(value) ? 1 : 0);
}

function resultsTable(policies: readonly PolicyTimeline[], summary: ReadonlyMap<string, FrontierSummary>): string {
  const ratioClass = (v: number | null): string | undefined => (v !== null && v < 1 ? 'good' : undefined);
  const columns: Column<PolicyTimeline>[] = [
    { label: 'under-prov. min', value: (p) => p.result.underProvisionedMinutes, format: wholeOrTenths, best: 'lower', help: 'Minutes in which demand exceeded Ready capacity' },
    { label: 'under-prov. share', value: (p) => p.result.underProvisionedFraction, format: (v) => percent(v), best: 'lower' },
    { label: 'unserved demand', value: (p) => p.result.unservedDemand, format: compact, best: 'lower', help: 'Demand above Ready capacity, summed over minutes' },
    { label: 'replica-min', value: (p) => p.result.replicaMinutes, format: (v) => fixed(v, 0), best: 'lower', help: 'Cost: requested replicas summed over minutes' },
    { label: 'scale events', value: (p) => p.result.scaleEvents, format: (v) => fixed(v, 0), best: 'lower' },
    {
      label: 'under ratio @ equal cost',
      value: (p) => summary.get(p.name)?.underRatioAtEqualCost ?? null,
      format: (v) => fixed(v, 2),
      best: 'lower',
      cellClass: ratioClass,
      help: 'Under-provisioned minutes divided by the HPA frontier at the same replica-minutes',
    },
    {
      label: 'cost ratio @ equal under',
      value: (p) => summary.get(p.name)?.costRatioAtEqualUnder ?? null,
      format: (v) => fixed(v, 2),
      best: 'lower',
      cellClass: ratioClass,
      help: 'Replica-minutes divided by what the HPA frontier needs for the same under-provisioned minutes',
    },
  ];
  return dataTable(policies, columns, {
    caption: 'Best values among the HPA and prescale runs are highlighted (the oracle is a bound, not a contender); ratios below 1 beat the HPA frontier; — means not applicable.',
    rowLabel: 'policy',
    name: (p) => p.name,
    ranked: (p) => p.kind !== 'oracle',
    rowClass: (p) => (p.kind === 'oracle' ? 'reference' : undefined),
  });
}

function forecastSection(band: NonNullable<SimulationReportData['forecast']>, peak: { t0: number; t1: number }, ids: ReturnType<typeof createIdSource>): PageSection {
  const coverage = upperCoverage(band);
  const whole = seriesWindow(band.actual);
  return {
    id: 'forecast',
    heading: 'Forecast vs actual',
    intro:
      `The ${band.model} model's forecasts made ${duration(band.aheadMs)} ahead. The actual value stayed at or below the ` +
      `q${band.quantile} line in ${percent(coverage, 1)} of the minutes (the quantile promises ${percent(band.quantile, 0)}).`,
    html:
      forecastChart(band, whole, `Forecast vs actual — ${band.model}, ${duration(band.aheadMs)} ahead`, 'forecast', ids) +
      forecastChart(band, peak, `Forecast vs actual around the demand peak (${duration(peak.t1 - peak.t0)})`, 'forecast-detail', ids),
  };
}
