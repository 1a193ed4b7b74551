// SVG path data for lines, step lines and bands; NaN values break the path.
import type { EnvelopePoint, Point } from './downsample.js';
import type { Scale } from './scale.js';

/** A coordinate rounded to 0.1 px, which is all a screen or a printer can show. */
export function px(value: number): string {
  const clamped = Math.max(-1e5, Math.min(1e5, value));
  return String(Math.round(clamped * 10) / 10);
}

export function linePath(points: readonly Point[], x: Scale, y: Scale): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(x.map(p.x))} ${px(y.map(p.y))}`;
    pen = true;
  }
  return d;
}

/** A step line: each value holds until the next point (and the last one until `endX`, if given). */
export function stepPath(points: readonly Point[], x: Scale, y: Scale, endX?: number): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    const sx = px(x.map(p.x));
    if (!Number.isFinite(p.y)) {
      if (pen) d += `H${sx}`;
      pen = false;
      continue;
    }
    const sy = px(y.map(p.y));
    d += pen ? `H${sx}V${sy}` : `M${sx} ${sy}`;
    pen = true;
  }
  if (pen && endX !== undefined) d += `H${px(x.map(endX))}`;
  return d;
}

/** Closed areas between lo and hi, one per run of finite points. */
export function bandPath(points: readonly EnvelopePoint[], x: Scale, y: Scale): string {
  let d = '';
  let run: EnvelopePoint[] = [];
  const flush = (): void => {
    if (run.length > 0) {
      const upper = run.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(x.map(p.x))} ${px(y.map(p.hi))}`).join('');
      const lower = run
        .slice()
        .reverse()
        .map((p) => `L${px(x.map(p.x))} ${px(y.map(p.lo))}`)
        .join('');
      d += `${upper}${lower}Z`;
    }
    run = [];
  };
  for (const p of points) {
    if (Number.isFinite(p.lo) && Number.isFinite(p.hi)) run.push(p);
    else flush();
  }
  flush();
  return d;
}
