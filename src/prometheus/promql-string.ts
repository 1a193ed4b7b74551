// PromQL string literals: decoding them exactly as Prometheus does (promql/parser/lex.go's lexString
// and lexEscape, util/strutil.Unquote), and writing a value as a literal that decodes back to it.
// Exactness matters: a literal this module accepted but Prometheus read differently would let a
// query hide a matcher from the namespace enforcement.

export type UnquoteResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
};

const HEX_DIGITS_AFTER: Record<string, number> = { x: 2, u: 4, U: 8 };

/**
 * The bytes a PromQL string literal (with its quotes) stands for. Escapes `\x..` and `\ooo` give
 * single bytes, as in Go, so the result need not be UTF-8.
 */
export function unquotePromQLString(literal: string): UnquoteResult {
  const quote = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== quote) return { ok: false, reason: 'unterminated string' };
  const body = literal.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) return { ok: false, reason: 'unterminated string' };
    return { ok: true, bytes: Buffer.from(body, 'utf8') };
  }
  if (quote !== '"' && quote !== "'") return { ok: false, reason: 'not a string literal' };

  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const char = body[i];
    if (char === '\n') return { ok: false, reason: 'line break inside a quoted string (use \\n)' };
    if (char === quote) return { ok: false, reason: 'unescaped quote inside the string' };
    if (char !== '\\') {
      const codePoint = body.codePointAt(i)!;
      const encoded = Buffer.from(String.fromCodePoint(codePoint), 'utf8');
      for (const byte of encoded) out.push(byte);
      i += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    const escape = body[i + 1];
    if (escape === undefined) return { ok: false, reason: 'escape sequence not terminated' };
    i += 2;
    if (escape in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[escape]);
    } else if (escape === quote) {
      out.push(quote.charCodeAt(0));
    } else if (escape >= '0' && escape <= '7') {
      const digits = escape + body.slice(i, i + 2);
      if (!/^[0-7]{3}$/.test(digits)) return { ok: false, reason: 'octal escape needs three digits (\\ooo)' };
      const byte = parseInt(digits, 8);
      if (byte > 255) return { ok: false, reason: 'octal escape above \\377' };
      out.push(byte);
      i += 2;
    } else if (escape in HEX_DIGITS_AFTER) {
      const count = HEX_DIGITS_AFTER[escape];
      const digits = body.slice(i, i + count);
      if (!new RegExp(`^[0-9a-fA-F]{${count}}$`).test(digits)) {
        return { ok: false, reason: `\\${escape} escape needs ${count} hex digits` };
      }
      i += count;
      const value = parseInt(digits, 16);
      if (escape === 'x') {
        out.push(value);
      } else {
        if (value > 0x10ffff || (value >= 0xd800 && value < 0xe000)) {
          return { ok: false, reason: 'escape sequence is an invalid Unicode code point' };
        }
        for (const byte of Buffer.from(String.fromCodePoint(value), 'utf8')) out.push(byte);
      }
    } else {
      return { ok: false, reason: `unknown escape sequence \\${escape}` };
    }
  }
  return { ok: true, bytes: Uint8Array.from(out) };
}

/**
 * `value` as a double-quoted PromQL literal made only of printable ASCII, so no quote, backslash,
 * line break or comment marker in the value can end the literal early. Throws RangeError for a
 * string that is not valid Unicode (a lone surrogate has no UTF-8 form).
 */
export function quotePromQLString(value: string): string {
  if (!isWellFormedUnicode(value)) throw new RangeError('value contains a lone surrogate, which is not valid Unicode');
  let out = '"';
  for (const char of value) {
    const codePoint = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (codePoint >= 0x20 && codePoint <= 0x7e) out += char;
    else if (codePoint <= 0xffff) out += `\\u${codePoint.toString(16).padStart(4, '0')}`;
    else out += `\\U${codePoint.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormedUnicode(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
