// A small Nelder-Mead simplex minimiser (standard coefficients), deterministic and allocation-light.

export interface NelderMeadOptions {
  /** Initial simplex edge along each coordinate. */
  step: number[];
  maxEvaluations: number;
  /** Stop when the simplex's function values span less than this. */
  tolerance: number;
}

export interface Minimum {
  point: number[];
  value: number;
  evaluations: number;
}

export function nelderMead(f: (x: number[]) => number, start: number[], options: NelderMeadOptions): Minimum {
  const dim = start.length;
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    const value = f(x);
    return Number.isFinite(value) ? value : Number.MAX_VALUE;
  };
  const simplex: { x: number[]; v: number }[] = [{ x: start.slice(), v: evaluate(start) }];
  for (let i = 0; i < dim; i++) {
    const x = start.slice();
    x[i] += options.step[i];
    simplex.push({ x, v: evaluate(x) });
  }
  const combine = (a: number[], b: number[], t: number): number[] => a.map((ai, i) => ai + t * (b[i] - ai));

  while (evaluations < options.maxEvaluations) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0];
    const worst = simplex[dim];
    if (worst.v - best.v <= options.tolerance * (Math.abs(best.v) + 1e-12)) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j] += simplex[i].x[j] / dim;

    const reflected = combine(centroid, worst.x, -1);
    const reflectedValue = evaluate(reflected);
    if (reflectedValue < best.v) {
      const expanded = combine(centroid, worst.x, -2);
      const expandedValue = evaluate(expanded);
      simplex[dim] = expandedValue < reflectedValue ? { x: expanded, v: expandedValue } : { x: reflected, v: reflectedValue };
    } else if (reflectedValue < simplex[dim - 1].v) {
      simplex[dim] = { x: reflected, v: reflectedValue };
    } else {
      const outside = reflectedValue < worst.v;
      const contracted = combine(centroid, outside ? reflected : worst.x, 0.5);
      const contractedValue = evaluate(contracted);
      if (contractedValue < Math.min(reflectedValue, worst.v)) {
        simplex[dim] = { x: contracted, v: contractedValue };
      } else {
        for (let i = 1; i <= dim; i++) {
          const x = combine(best.x, simplex[i].x, 0.5);
          simplex[i] = { x, v: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { point: simplex[0].x, value: simplex[0].v, evaluations };
}
