// Argument parsers shared by the commands: each throws commander's InvalidArgumentError with a
// message that says what is expected.
import { InvalidArgumentError } from 'commander';
import { formatDuration, parseDuration } from '../api/units.js';
import { assertEnforceableLabelName } from '../prometheus/enforce-label.js';

export const wholeNumber = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number >= ${min}`);
  return n;
};

export const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a number greater than 0');
  return n;
};

export const duration = (flag: string) => (value: string) => {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
  }
};

/**
 * `--lead-times`: a comma-separated list of at most `maxCount` distinct durations, each in
 * (0, `maxMs`]; returned in the order given.
 */
export const durationList = (flag: string, maxCount: number, maxMs: number) => (value: string) => {
  const parts = String(value).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new InvalidArgumentError(`${flag}: name at least one duration, e.g. 2m,10m`);
  if (parts.length > maxCount) throw new InvalidArgumentError(`${flag}: at most ${maxCount} durations, got ${parts.length}`);
  const list = parts.map((part) => {
    let ms: number;
    try {
      ms = parseDuration(part);
    } catch (err) {
      throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
    }
    if (!(ms > 0) || ms > maxMs) throw new InvalidArgumentError(`${flag}: each duration must be above 0 and at most ${formatDuration(maxMs)}, got "${part}"`);
    return ms;
  });
  return [...new Set(list)];
};

/** A duration within [minMs, maxMs]. */
export const boundedDuration = (flag: string, minMs: number, maxMs: number) => (value: string) => {
  const ms = duration(flag)(value);
  if (ms < minMs || ms > maxMs) throw new InvalidArgumentError(`${flag}: must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got "${value}"`);
  return ms;
};

export const numberList = (check: (n: number) => boolean, what: string) => (value: string) => {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || !check(n))) throw new InvalidArgumentError(`expected a comma-separated list of ${what}`);
  return list;
};

/** A comma-separated list of absolute http(s) URLs. */
export const urlList = (value: string) => {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const entry of list) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new InvalidArgumentError(`"${entry}" is not an http:// or https:// URL`);
  }
  return list;
};

/** A Prometheus label name. */
export const labelName = (value: string) => {
  try {
    assertEnforceableLabelName(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
};
