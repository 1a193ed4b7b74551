// Argument parsers shared by the commands: each throws commander's InvalidArgumentError with a
// message that says what is expected.
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../api/units.js';
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
