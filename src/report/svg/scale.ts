// A linear map from data values to SVG coordinates.
export interface Scale {
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  map(value: number): number;
  invert(coordinate: number): number;
}

export function scaleLinear(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return {
    domain: [d0, d1],
    range: [r0, r1],
    map: (value) => r0 + ((value - d0) / span) * (r1 - r0),
    invert: (coordinate) => d0 + ((coordinate - r0) / (r1 - r0 || 1)) * span,
  };
}
