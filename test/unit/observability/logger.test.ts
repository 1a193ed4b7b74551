import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel, REDACTED, scalerLogger, type LogLevel } from '../../../src/observability/logger.js';

function capture(level: LogLevel = 'info') {
  const lines: string[] = [];
  const destination = { write: (chunk: string) => void lines.push(chunk) };
  const logger = createLogger({ level, destination });
  const records = () => lines.join('').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { logger, records, raw: () => lines.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label and ISO time, honouring the level', () => {
    const { logger, records } = capture('info');
    logger.debug('hidden');
    logger.info({ replicas: 3 }, 'scaled');
    const [record, ...rest] = records();
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ level: 'info', msg: 'scaled', replicas: 3 });
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('redacts secrets at any nesting depth, including inside logged errors', () => {
    const { logger, records, raw } = capture();
    const error = Object.assign(new Error('request failed'), {
      config: { headers: { Authorization: 'Bearer in-error-config' }, auth: { password: 'in-error-auth' } },
    });
    logger.info(
      {
        authorization: 'Bearer top-level',
        password: 'hunter2',
        token: 'tok-1',
        bearerToken: 'tok-2',
        prometheus: { headers: { authorization: 'Basic nested' }, basicAuth: { password: 'pw-nested' } },
        kube: { user: { token: 'user-token' } },
        request: { headers: { 'proxy-authorization': 'Basic proxy', cookie: 'session=1' } },
        keep: 'visible',
      },
      'connecting',
    );
    logger.error({ err: error }, 'failed');
    const output = raw();
    for (const secret of [
      'top-level',
      'hunter2',
      'tok-1',
      'tok-2',
      'Basic nested',
      'pw-nested',
      'user-token',
      'in-error-config',
      'in-error-auth',
      'Basic proxy',
      'session=1',
    ]) {
      expect(output).not.toContain(secret);
    }
    const [first, second] = records();
    expect(first.keep).toBe('visible');
    expect(first.password).toBe(REDACTED);
    expect(first.prometheus.headers.authorization).toBe(REDACTED);
    expect(second.err.message).toBe('request failed');
  });
});

describe('scalerLogger', () => {
  it('stamps namespace and scaler on every line of the child', () => {
    const { logger, records } = capture();
    const log = scalerLogger(logger, 'shop', 'web');
    log.info('one');
    log.warn({ reason: 'x' }, 'two');
    logger.info('unrelated');
    const [one, two, unrelated] = records();
    expect(one).toMatchObject({ namespace: 'shop', scaler: 'web', msg: 'one' });
    expect(two).toMatchObject({ namespace: 'shop', scaler: 'web', level: 'warn', reason: 'x' });
    expect(unrelated.scaler).toBeUndefined();
  });
});

describe('isLogLevel', () => {
  it('accepts pino levels only', () => {
    expect(isLogLevel('debug')).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
  });
});
