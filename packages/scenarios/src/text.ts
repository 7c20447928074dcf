/**
 * Names from a scenario file (domain names, descriptions) shown in a terminal or an SVG:
 * a control character must neither drive the terminal nor break the XML, so it is
 * written out visibly, as `\u001b`.
 */

/** Is `code` (a UTF-16 unit) one to show as `\uXXXX`: C0, DEL, C1, bidi controls, U+FFFE/F. */
function hidden(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfffe ||
    code === 0xffff
  );
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** `s` with control characters and lone surrogates written as `\uXXXX`. */
export function visible(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      out += s[i] + s[i + 1];
      i++;
    } else if (hidden(c) || isHigh(c) || isLow(c)) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** `s` as XML character data or an attribute value: `visible`, then `& < > " '` escaped. */
export function xmlText(s: string): string {
  return visible(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
