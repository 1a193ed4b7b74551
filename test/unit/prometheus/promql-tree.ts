// Reads a query back with the PromQL grammar, independently of the rewrite, to check what
// enforceLabel produced: for each vector selector, the matchers it has on one label.
import { parser } from '@prometheus-io/lezer-promql';
import { unquotePromQLString } from '../../../src/prometheus/promql-string.js';

const strictParser = parser.configure({ strict: true });
const OPERATORS: Record<string, string> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

function decode(literal: string): string {
  const decoded = unquotePromQLString(literal);
  if (!decoded.ok) throw new Error(`bad string literal ${literal}: ${decoded.reason}`);
  return Buffer.from(decoded.bytes).toString('utf8');
}

/**
 * One entry per vector selector, in query order: its matchers on `label` as operator + value
 * (e.g. '=a'). Throws if the query does not parse or has an error node.
 */
export function enforcedMatcherValues(query: string, label: string): string[][] {
  const selectors: string[][] = [];
  strictParser.parse(query).iterate({
    enter(ref) {
      if (ref.type.isError) throw new Error(`error node at ${ref.from} in ${query}`);
      if (ref.name !== 'VectorSelector') return;
      const onLabel: string[] = [];
      const matchers = ref.node.getChild('LabelMatchers');
      for (let child = matchers?.firstChild; child; child = child.nextSibling) {
        if (child.name !== 'UnquotedLabelMatcher' && child.name !== 'QuotedLabelMatcher') continue;
        const nameNode = child.firstChild!;
        const name = nameNode.name === 'LabelName' ? query.slice(nameNode.from, nameNode.to) : decode(query.slice(nameNode.from, nameNode.to));
        if (name !== label) continue;
        const operator = OPERATORS[child.getChild('MatchOp')!.firstChild!.name];
        const valueNode = child.lastChild!;
        onLabel.push(operator + decode(query.slice(valueNode.from, valueNode.to)));
      }
      selectors.push(onLabel);
    },
  });
  return selectors;
}
