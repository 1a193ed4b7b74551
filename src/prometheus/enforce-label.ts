// Per-tenant label enforcement in PromQL: enforceLabel(query, 'namespace', 'a') returns a query in
// which every vector selector (wherever it sits: matrix selectors, subqueries, function arguments,
// aggregations, binary operands, offset and @ modifiers) carries exactly namespace="a", so the query
// reads only series of namespace a.
//
// The query is parsed with the Prometheus project's own grammar (@prometheus-io/lezer-promql) in
// strict mode and rewritten by splicing text at node positions; everything else stays byte for byte.
//
// A selector that already has matchers on the label is handled as prom-label-proxy does with
// --error-on-replace: a matcher that cannot select the enforced value is an error (namespace="b",
// namespace!="a", namespace=~"b|c"), one that can is dropped because the enforced matcher implies it
// (namespace!="b", namespace=~"a|b", namespace=~".*"). Regexes are judged only when they are a
// plain list of alternatives or .* / .+; any other regex on the label is rejected rather than run,
// because the tenant wrote it and JavaScript's backtracking engine is not Prometheus' RE2.
//
// Where lezer's grammar is more lenient than Prometheus' lexer, the difference is closed here, so
// that no query can mean one thing to this module and another to Prometheus: every string literal
// is decoded with Prometheus' rules (lezer accepts unterminated strings and any escape), and a
// carriage return is refused (Prometheus ends a # comment at \r, lezer only at \n, so text after a
// \r would be a comment here and a selector there).

import { parser } from '@prometheus-io/lezer-promql';
import { isWellFormedUnicode, quotePromQLString, unquotePromQLString } from './promql-string.js';

/** Longest query accepted, in UTF-8 bytes; longer ones are refused before parsing. */
export const MAX_ENFORCED_QUERY_BYTES = 16 * 1024;
/**
 * Deepest nesting of brackets accepted. Lezer gives up on a parse stack about 2,800 levels deep
 * with a bare "No parse"; refusing far earlier gives a message that says what is wrong.
 */
export const MAX_ENFORCED_QUERY_NESTING = 128;

/** A query that cannot be restricted to the enforced label; `offset` (UTF-16 index) says where. */
export class PromQLEnforceError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

const strictParser = parser.configure({ strict: true });
type SyntaxNode = ReturnType<typeof strictParser.parse>['topNode'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER_NODES = new Set(['UnquotedLabelMatcher', 'QuotedLabelMatcher', 'QuotedLabelName']);

type MatchOperator = '=' | '!=' | '=~' | '!~';
const OPERATOR_BY_NODE: Record<string, MatchOperator> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

interface Edit {
  from: number;
  to: number;
  text: string;
}

/** Throws RangeError when `label` cannot be enforced: it must be a plain label name not starting with "__". */
export function assertEnforceableLabelName(label: string): void {
  if (!LABEL_NAME.test(label) || label.startsWith('__')) {
    throw new RangeError(
      `cannot enforce label ${JSON.stringify(label)}: use a label name of letters, digits and underscores ` +
        'that does not start with "__"',
    );
  }
}

/**
 * `query` with `label="value"` enforced on every vector selector. Throws PromQLEnforceError for a
 * query that is too long, does not parse, or has a matcher on `label` that conflicts with `value`;
 * RangeError for an unusable label name or an empty value.
 */
export function enforceLabel(query: string, label: string, value: string): string {
  assertEnforceableLabelName(label);
  if (value === '') throw new RangeError(`cannot enforce ${label}="": it would select every series without ${label}`);
  const enforcement: Enforcement = {
    labelBytes: Buffer.from(label, 'utf8'),
    value,
    valueBytes: Buffer.from(value, 'utf8'),
    enforcedMatcher: `${label}=${quotePromQLString(value)}`,
  };

  checkQueryText(query);
  checkNesting(query);
  const tree = parseStrictly(query);
  const edits: Edit[] = [];

  tree.iterate({
    enter(ref) {
      if (ref.type.isError) throw syntaxError(query, ref.from);
      if (ref.name === 'StringLiteral') checkStringLiteral(query, ref.from, ref.to);
      if (ref.name === 'VectorSelector') {
        edits.push(...selectorEdits(query, ref.node, enforcement));
      }
    },
  });
  return applyEdits(query, edits);
}

function checkQueryText(query: string): void {
  // .length counts UTF-16 units, never more than the UTF-8 bytes, so this skips measuring huge inputs.
  if (query.length > MAX_ENFORCED_QUERY_BYTES || Buffer.byteLength(query, 'utf8') > MAX_ENFORCED_QUERY_BYTES) {
    throw new PromQLEnforceError(`query is longer than ${MAX_ENFORCED_QUERY_BYTES} bytes: shorten it`);
  }
  if (query.trim() === '') throw new PromQLEnforceError('query is empty', 0);
  const carriageReturn = query.indexOf('\r');
  if (carriageReturn >= 0) {
    throw new PromQLEnforceError(
      `query has a carriage return at offset ${carriageReturn}: use plain \\n line breaks`,
      carriageReturn,
    );
  }
  if (!isWellFormedUnicode(query)) throw new PromQLEnforceError('query contains invalid Unicode (a lone surrogate)');
}

/** Bracket depth outside strings and comments; a rough scan, only to refuse absurd nesting early. */
function checkNesting(query: string): void {
  let depth = 0;
  for (let i = 0; i < query.length; i++) {
    const char = query[i];
    if (char === '#') {
      const lineEnd = query.indexOf('\n', i);
      i = lineEnd < 0 ? query.length : lineEnd;
    } else if (char === '"' || char === "'" || char === '`') {
      for (i++; i < query.length && query[i] !== char; i++) if (query[i] === '\\' && char !== '`') i++;
    } else if (char === '(' || char === '[' || char === '{') {
      if (++depth > MAX_ENFORCED_QUERY_NESTING) {
        throw new PromQLEnforceError(
          `query nests brackets more than ${MAX_ENFORCED_QUERY_NESTING} deep (at offset ${i}): simplify it`,
          i,
        );
      }
    } else if ((char === ')' || char === ']' || char === '}') && depth > 0) {
      depth--;
    }
  }
}

function parseStrictly(query: string) {
  try {
    return strictParser.parse(query);
  } catch (err) {
    // Strict lezer parsers throw SyntaxError("No parse at <offset>").
    const offset = Number(/(\d+)\s*$/.exec(err instanceof Error ? err.message : '')?.[1] ?? 0);
    throw syntaxError(query, offset);
  }
}

function syntaxError(query: string, offset: number): PromQLEnforceError {
  const where =
    offset >= query.length ? 'at the end of the query' : `at offset ${offset} (near ${excerpt(query.slice(offset))})`;
  return new PromQLEnforceError(`query is not valid PromQL: unexpected input ${where}`, offset);
}

function checkStringLiteral(query: string, from: number, to: number): void {
  const decoded = unquotePromQLString(query.slice(from, to));
  if (!decoded.ok) throw new PromQLEnforceError(`string at offset ${from} is invalid: ${decoded.reason}`, from);
}

interface Enforcement {
  labelBytes: Buffer;
  value: string;
  valueBytes: Buffer;
  enforcedMatcher: string;
}

function selectorEdits(query: string, selector: SyntaxNode, enforcement: Enforcement): Edit[] {
  const matchers = selector.getChild('LabelMatchers');
  if (!matchers) {
    const metricName = selector.getChild('Identifier')!;
    return [{ from: metricName.to, to: metricName.to, text: `{${enforcement.enforcedMatcher}}` }];
  }
  const elements: SyntaxNode[] = [];
  for (let child = matchers.firstChild; child; child = child.nextSibling) {
    if (MATCHER_NODES.has(child.name)) elements.push(child);
  }
  if (elements.length === 0) {
    if (!selector.getChild('Identifier')) {
      throw new PromQLEnforceError(
        `empty selector {} at offset ${selector.from}: name a metric or add a matcher`,
        selector.from,
      );
    }
    return [{ from: matchers.from + 1, to: matchers.from + 1, text: enforcement.enforcedMatcher }];
  }

  const onLabel = elements.filter((element) => matchesLabelName(query, element, enforcement.labelBytes));
  if (onLabel.length === 0) {
    const last = elements[elements.length - 1];
    return [{ from: last.to, to: last.to, text: `,${enforcement.enforcedMatcher}` }];
  }
  for (const matcher of onLabel) checkCompatible(query, matcher, enforcement);

  const [first, ...rest] = onLabel;
  const edits: Edit[] = [];
  if (!isEnforcedMatcher(query, first, enforcement.valueBytes)) {
    edits.push({ from: first.from, to: first.to, text: enforcement.enforcedMatcher });
  }
  for (const duplicate of rest) {
    // From the end of the element before it, so its separating comma goes too.
    const previous = elements[elements.indexOf(duplicate) - 1];
    edits.push({ from: previous.to, to: duplicate.to, text: '' });
  }
  return edits;
}

function matchesLabelName(query: string, element: SyntaxNode, labelBytes: Buffer): boolean {
  if (element.name === 'UnquotedLabelMatcher') {
    const name = element.getChild('LabelName')!;
    return query.slice(name.from, name.to) === labelBytes.toString('utf8');
  }
  if (element.name === 'QuotedLabelMatcher') {
    const name = element.getChild('QuotedLabelName')!;
    return Buffer.from(decodedString(query, name)).equals(labelBytes);
  }
  return false; // a bare QuotedLabelName is the metric name: {"my.metric"}
}

function matcherParts(query: string, matcher: SyntaxNode): { operator: MatchOperator; value: Uint8Array } {
  const operatorNode = matcher.getChild('MatchOp')!.firstChild!;
  const valueNode = matcher.getChildren('StringLiteral').at(-1)!;
  return { operator: OPERATOR_BY_NODE[operatorNode.name], value: decodedString(query, valueNode) };
}

function isEnforcedMatcher(query: string, matcher: SyntaxNode, valueBytes: Buffer): boolean {
  const { operator, value } = matcherParts(query, matcher);
  return operator === '=' && Buffer.from(value).equals(valueBytes);
}

function checkCompatible(query: string, matcher: SyntaxNode, enforcement: Enforcement): void {
  const { operator, value } = matcherParts(query, matcher);
  const admitsValue = admitsEnforcedValue(operator, value, enforcement);
  const shown = excerpt(query.slice(matcher.from, matcher.to));
  if (admitsValue === undefined) {
    throw new PromQLEnforceError(
      `matcher ${shown} at offset ${matcher.from} cannot be checked against the enforced ` +
        `${enforcement.enforcedMatcher}: use ${enforcement.enforcedMatcher} or remove the matcher`,
      matcher.from,
    );
  }
  if (!admitsValue) {
    throw new PromQLEnforceError(
      `matcher ${shown} at offset ${matcher.from} conflicts with the enforced ${enforcement.enforcedMatcher}: ` +
        `this query may only read series with ${enforcement.enforcedMatcher}; remove the matcher`,
      matcher.from,
    );
  }
}

/** Whether a matcher `label <operator> value` admits the enforced value; undefined when that cannot be told safely. */
function admitsEnforcedValue(operator: MatchOperator, value: Uint8Array, enforcement: Enforcement): boolean | undefined {
  const equal = Buffer.from(value).equals(enforcement.valueBytes);
  switch (operator) {
    case '=':
      return equal;
    case '!=':
      return !equal;
    case '=~':
      return regexFullyMatches(value, enforcement.value);
    case '!~': {
      const matches = regexFullyMatches(value, enforcement.value);
      return matches === undefined ? undefined : !matches;
    }
  }
}

const REGEX_SYNTAX = new Set('\\.+*?()[]{}^$|');
const ESCAPABLE_PUNCTUATION = /^[!-/:-@[-`{-~]$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether Prometheus' fully anchored regex `pattern` matches `text`, for the regexes that can be
 * decided without a regex engine: `.*`, `.+` and alternatives of literal text (`a|b\.c`).
 */
function regexFullyMatches(pattern: Uint8Array, text: string): boolean | undefined {
  let source: string;
  try {
    source = UTF8.decode(pattern);
  } catch {
    return undefined;
  }
  if (source === '.*' || source === '.+') {
    if (text.includes('\n')) return undefined; // whether . matches \n depends on the Prometheus version
    return source === '.*' || text.length > 0;
  }
  const alternatives: string[] = [];
  let current = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '|') {
      alternatives.push(current);
      current = '';
    } else if (char === '\\') {
      const escaped = source[i + 1];
      if (escaped === undefined || !ESCAPABLE_PUNCTUATION.test(escaped)) return undefined;
      current += escaped;
      i++;
    } else if (REGEX_SYNTAX.has(char)) {
      return undefined;
    } else {
      current += char;
    }
  }
  alternatives.push(current);
  return alternatives.includes(text);
}

function decodedString(query: string, node: SyntaxNode): Uint8Array {
  const literal = node.name === 'StringLiteral' ? node : node.getChild('StringLiteral')!;
  const decoded = unquotePromQLString(query.slice(literal.from, literal.to));
  if (!decoded.ok) throw new PromQLEnforceError(`string at offset ${literal.from} is invalid: ${decoded.reason}`, literal.from);
  return decoded.bytes;
}

function applyEdits(query: string, edits: Edit[]): string {
  const ordered = [...edits].sort((a, b) => a.from - b.from || a.to - b.to);
  const pieces: string[] = [];
  let position = 0;
  for (const edit of ordered) {
    if (edit.from < position) throw new Error(`enforceLabel: overlapping edits at offset ${edit.from}`);
    pieces.push(query.slice(position, edit.from), edit.text);
    position = edit.to;
  }
  pieces.push(query.slice(position));
  return pieces.join('');
}

function excerpt(text: string): string {
  const limit = 40;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}
