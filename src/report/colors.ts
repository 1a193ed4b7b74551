// Colours that stay distinct on screen and on paper: prescale runs in blues, HPA runs in oranges
// (darker = more aggressive setting), the oracle in green, demand and actuals in near-black.
export const DEMAND_COLOR = '#2b2b2b';
export const UNDER_SHADE = '#e4766a';
export const ORACLE_COLOR = '#2e8b57';
export const PRESCALE_COLOR = '#2f6db5';
export const HPA_COLOR = '#d9822b';
export const BAND_COLOR = '#8fb8e3';
export const CONTEXT_COLOR = '#9a9a9a';

/** Categorical colours for models (muted, print-safe). */
export const CATEGORICAL = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#9c755f', '#edc948', '#ff9da7', '#bab0ac'];

export type PolicyKind = 'prescale' | 'hpa' | 'oracle';

const RAMPS: Record<Exclude<PolicyKind, 'oracle'>, [string, string]> = {
  prescale: ['#7fb0e0', '#17457f'],
  hpa: ['#f5b26b', '#9a4a0c'],
};

export function kindColor(kind: PolicyKind): string {
  return kind === 'prescale' ? PRESCALE_COLOR : kind === 'hpa' ? HPA_COLOR : ORACLE_COLOR;
}

/** The number after "@" (and an optional "q"), used to order runs: "hpa@0.8" -> 0.8, "prescale@q0.9" -> 0.9. */
export function policyParameter(name: string): number {
  const match = /@q?([0-9.]+)/.exec(name);
  return match ? Number(match[1]) : NaN;
}

/**
 * One colour per policy. Within a kind, runs are shaded from light to dark in the order of how
 * much capacity they tend to buy: higher quantiles for prescale, lower targets for the HPA.
 */
export function policyColors(policies: readonly { name: string; kind: PolicyKind }[]): Map<string, string> {
  const colors = new Map<string, string>();
  for (const kind of ['prescale', 'hpa'] as const) {
    const runs = policies.filter((p) => p.kind === kind);
    const ordered = runs
      .map((p) => ({ name: p.name, key: policyParameter(p.name) }))
      .sort((a, b) => (kind === 'hpa' ? b.key - a.key : a.key - b.key) || a.name.localeCompare(b.name));
    ordered.forEach((p, i) => colors.set(p.name, mix(RAMPS[kind][0], RAMPS[kind][1], ordered.length > 1 ? i / (ordered.length - 1) : 0.6)));
  }
  for (const p of policies) if (p.kind === 'oracle') colors.set(p.name, ORACLE_COLOR);
  return colors;
}

function mix(from: string, to: string, t: number): string {
  const a = rgb(from);
  const b = rgb(to);
  return `#${a.map((v, i) => Math.round(v + (b[i] - v) * t).toString(16).padStart(2, '0')).join('')}`;
}

function rgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}
