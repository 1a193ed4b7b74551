import { describe, expect, it } from 'vitest';
import { formatJson, formatTable, noScalersMessage, sanitize, sparkline, statusRow, type StatusRow } from '../../../src/cli/status.js';

function scaler(status: unknown, over: { name?: string; annotations?: Record<string, string>; spec?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'autoscaling.prescale.dev/v1alpha1',
    kind: 'PredictiveScaler',
    metadata: { name: over.name ?? 'checkout', namespace: 'shop', annotations: over.annotations },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' }, maxReplicas: 60, mode: 'Auto', ...over.spec },
    status,
  };
}

const HEALTHY = {
  currentReplicas: 4,
  desiredReplicas: 9,
  leadTime: '2m',
  leadTimeSource: 'Learned',
  forecast: { model: 'HoltWinters', generatedAt: '2026-03-02T14:00:00Z', peak: 512.3, peakAt: '2026-03-02T14:20:00Z', lower: 400, upper: 600, points: [100, 200, 400, 800] },
  conditions: [
    { type: 'Ready', status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: '2026-03-02T13:00:00Z' },
    { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: '', lastTransitionTime: '2026-03-02T13:00:00Z' },
    { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: '', lastTransitionTime: '2026-03-02T13:00:00Z' },
    { type: 'Degraded', status: 'False', reason: 'Healthy', message: '', lastTransitionTime: '2026-03-02T13:00:00Z' },
  ],
};

describe('statusRow', () => {
  it('reads the list fields from status and spec', () => {
    expect(statusRow(scaler(HEALTHY), 3)).toEqual({
      namespace: 'shop',
      name: 'checkout',
      target: 'Deployment/checkout',
      mode: 'Auto',
      currentReplicas: 4,
      desiredReplicas: 9,
      readyReplicas: 3,
      model: 'HoltWinters',
      leadTime: '2m (Learned)',
      peak: 512.3,
      forecast: [100, 200, 400, 800],
      problems: [],
    });
  });

  it('lists the conditions that are not healthy as type=reason, but not the mode the user chose', () => {
    const conditions = [
      { type: 'Ready', status: 'False', reason: 'PrometheusUnavailable' },
      { type: 'AbleToScale', status: 'False', reason: 'ForecastOnly' },
      { type: 'ForecastAvailable', status: 'False', reason: 'InsufficientHistory' },
      { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' },
      { type: 'Degraded', status: 'True', reason: 'NoData' },
    ];
    expect(statusRow(scaler({ conditions }, { spec: { mode: 'ForecastOnly' } })).problems).toEqual([
      'Ready=PrometheusUnavailable',
      'ForecastAvailable=InsufficientHistory',
      'Degraded=NoData',
    ]);
  });

  it('shows a paused scaler in its mode, and the defaults of a scaler never reconciled', () => {
    const row = statusRow(scaler(undefined, { annotations: { 'autoscaling.prescale.dev/paused': 'true' }, spec: { mode: undefined } }));
    expect(row).toMatchObject({ mode: 'Auto (paused)', forecast: [], problems: undefined });
    expect(row.currentReplicas).toBeUndefined();
    expect(row.model).toBeUndefined();
  });

  it('survives any shape where an object was expected', () => {
    for (const junk of [null, 42, 'text', [], { metadata: 'x', spec: [1], status: { conditions: 'no', forecast: { points: 'no' } } }]) {
      const row = statusRow(junk);
      expect(row.target).toBe('?/?');
      expect(row.forecast).toEqual([]);
    }
    const conditions = [null, 7, { type: 5, status: 'False' }, { type: 'Ready', status: 'False' }];
    expect(statusRow(scaler({ conditions })).problems).toEqual(['Ready=?']);
  });

  it('keeps only counts that are whole and not negative, and finite forecast values', () => {
    const row = statusRow(scaler({ currentReplicas: -1, desiredReplicas: 2.5, forecast: { peak: 'big', points: [1, 'x', null, 2, 1e400] } }), Number.NaN);
    expect(row).toMatchObject({ currentReplicas: undefined, desiredReplicas: undefined, readyReplicas: undefined, peak: undefined, forecast: [1, 2] });
  });

  it('caps the forecast at 24 points and the problems at 8, whatever status holds', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ type: `T${i}`, status: 'False', reason: 'Bad' }));
    const row = statusRow(scaler({ conditions: many, forecast: { points: Array.from({ length: 10_000 }, (_, i) => i) } }));
    expect(row.forecast).toHaveLength(24);
    expect(row.problems).toHaveLength(8);
  });
});

describe('sanitize', () => {
  it('turns control characters, escape sequences and every non-ASCII character into "?"', () => {
    expect(sanitize('\x1b]0;pwned\x07\x1b[2Jok\r\n\u009b31m')).toBe('?]0;pwned??[2Jok???31m');
    expect(sanitize('safe\u202Egnp.exe')).toBe('safe?gnp.exe');
    expect(sanitize('Модель')).toBe('??????');
  });

  it('cuts a long string with an ellipsis, and gives "" for what is not a string', () => {
    expect(sanitize('x'.repeat(10_000_000), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(sanitize('x'.repeat(10), 10)).toBe('x'.repeat(10));
    expect(sanitize(undefined)).toBe('');
    expect(sanitize({ toString: () => 'evil' })).toBe('');
  });
});

describe('sparkline', () => {
  it('draws one bar per value, from zero (or the lowest value below it) to the highest', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([100, 800])).toBe('▂█');
    expect(sparkline([-10, 0, 10])).toBe('▁▅█');
  });

  it('draws a flat forecast at full height, zero as the lowest bar, and nothing without values', () => {
    expect(sparkline([5, 5, 5])).toBe('███');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(sparkline([])).toBe('');
  });

  it('copes with extreme values', () => {
    expect(sparkline([-Number.MAX_VALUE, Number.MAX_VALUE])).toBe('▁▁');
    expect(sparkline([Number.NaN, 1])).toBe('█');
  });
});

describe('formatTable', () => {
  const rows: StatusRow[] = [statusRow(scaler(HEALTHY), 3), statusRow(scaler(undefined, { name: 'model-server' }))];

  it('aligns the columns under their headers', () => {
    const lines = formatTable(rows, { allNamespaces: false, color: false }).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^NAME +TARGET +MODE +CURRENT +DESIRED +READY +MODEL +LEAD TIME +PEAK +FORECAST +CONDITIONS$/);
    for (const header of ['TARGET', 'MODE', 'MODEL', 'LEAD TIME', 'FORECAST', 'CONDITIONS']) {
      const at = lines[0]!.indexOf(header);
      expect(lines[1]![at - 1]).toBe(' ');
      expect(lines[1]![at]).not.toBe(' ');
    }
    expect(lines[1]).toContain('Deployment/checkout');
    expect(lines[1]).toContain('2m (Learned)');
    expect(lines[1]).toContain('▂▃▅█');
    expect(lines[1]).toContain('<healthy>');
    expect(lines[2]).toMatch(/^model-server +Deployment\/checkout +Auto +- +- +- +- +- +- +- +<not reconciled yet>$/);
    // Right-aligned counts end under the end of their header.
    const currentEnd = lines[0]!.indexOf('CURRENT') + 'CURRENT'.length;
    expect(lines[1]![currentEnd - 1]).toBe('4');
  });

  it('shows the namespace column only for every namespace', () => {
    expect(formatTable(rows, { allNamespaces: true, color: false })).toMatch(/^NAMESPACE +NAME /);
    expect(formatTable(rows, { allNamespaces: true, color: false }).split('\n')[1]).toMatch(/^shop +checkout /);
  });

  it('uses no escape sequence without colour, and only colour codes with it', () => {
    expect(formatTable(rows, { allNamespaces: false, color: false })).not.toContain('\x1b');
    const colored = formatTable(rows, { allNamespaces: false, color: true });
    expect(colored).toContain('\x1b[32m<healthy>\x1b[0m');
    expect(colored.replace(/\x1b\[[0-9]+m/g, '')).toBe(formatTable(rows, { allNamespaces: false, color: false }));
  });

  it('bounds every column, so a hostile status cannot blow the table up or drive the terminal', () => {
    const hostile = statusRow(
      scaler({
        currentReplicas: 1,
        leadTime: `\x1b[31m${'9'.repeat(1_000_000)}`,
        forecast: { model: '\x1b]52;c;ZWNobyBwd25lZA==\x07', points: [1, 2] },
        conditions: [{ type: 'Ready', status: 'False', reason: `\x1b[2J${'R'.repeat(5000)}` }],
      }, { name: 'n'.repeat(253) }),
    );
    const table = formatTable([hostile], { allNamespaces: true, color: false });
    expect(table).not.toMatch(/[\x00-\x08\x0B-\x1F\x7F-\x9F]/);
    const lines = table.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(Array.from(lines[1]!).length).toBeLessThan(400);
    expect(lines[1]).toContain('…');
  });
});

describe('formatJson and the empty list', () => {
  it('prints the sanitized rows as JSON', () => {
    const out = JSON.parse(formatJson([statusRow(scaler({ forecast: { model: 'Linear\u009b' } }))]));
    expect(out.items[0]).toMatchObject({ name: 'checkout', model: 'Linear?' });
  });

  it('says where it looked', () => {
    expect(noScalersMessage('shop')).toBe('No PredictiveScalers found in namespace shop.\n');
    expect(noScalersMessage(undefined)).toBe('No PredictiveScalers found.\n');
  });
});
