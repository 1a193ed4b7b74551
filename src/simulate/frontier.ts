// The equal-cost comparison of SPEC section 6: the HPA runs form a frontier (replica-minutes ->
// under-provisioned minutes, linear between points); each prescale run is compared with it at the
// same cost and at the same under-provisioning.
import type { FrontierSummary, PolicyResult } from './types.js';

interface Point {
  cost: number;
  under: number;
}

/** Linear interpolation of y at x over points sorted by x; null outside their range. */
function interpolate(points: { x: number; y: number }[], x: number): number | null {
  if (points.length === 0) return null;
  const lo = points[0]!;
  const hi = points[points.length - 1]!;
  if (x < lo.x - 1e-9 || x > hi.x + 1e-9) return null;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (x <= b.x + 1e-9) return b.x === a.x ? Math.min(a.y, b.y) : a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  }
  return hi.y;
}

/**
 * The HPA frontier as the lower envelope: for each cost, the least under-provisioning any HPA run
 * reaches at that cost or less, so a badly tuned run never makes the baseline look worse than it is.
 */
export function hpaFrontier(hpa: PolicyResult[]): Point[] {
  const pts = hpa.map((p) => ({ cost: p.replicaMinutes, under: p.underProvisionedMinutes })).sort((a, b) => a.cost - b.cost || a.under - b.under);
  const frontier: Point[] = [];
  for (const p of pts) {
    if (frontier.length > 0 && p.under >= frontier[frontier.length - 1]!.under) continue;
    frontier.push(p);
  }
  return frontier;
}

export function summarize(prescale: PolicyResult[], hpa: PolicyResult[]): FrontierSummary[] {
  const frontier = hpaFrontier(hpa);
  const underAtCost = frontier.map((p) => ({ x: p.cost, y: p.under }));
  // Under-provisioning falls as cost rises: read cost as a function of under, sorted by under.
  const costAtUnder = [...frontier].reverse().map((p) => ({ x: p.under, y: p.cost }));
  return prescale.map((p) => {
    const hpaUnder = interpolate(underAtCost, p.replicaMinutes);
    const hpaCost = interpolate(costAtUnder, p.underProvisionedMinutes);
    return {
      policy: p.name,
      underRatioAtEqualCost: hpaUnder === null ? null : ratio(p.underProvisionedMinutes, hpaUnder),
      costRatioAtEqualUnder: hpaCost === null ? null : ratio(p.replicaMinutes, hpaCost),
    };
  });
}

function ratio(a: number, b: number): number | null {
  if (b === 0) return a === 0 ? 1 : null;
  return a / b;
}
