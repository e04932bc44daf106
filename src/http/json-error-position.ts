const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const LITERALS = ["true", "false", "null"];

/**
 * Where `text` stops being JSON: the offset of the first character JSON.parse cannot take (its
 * length when the text ends too early), or -1 when it is JSON. V8's own messages name a position
 * for some mistakes only ("Unexpected token 'x', …" has none, and quotes the input instead).
 * Iterative, so nesting depth cannot overflow the stack; only run on text JSON.parse refused.
 */
export function jsonErrorPosition(text: string): number {
  const n = text.length;
  const open: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < n && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  /** A string at i: true and i past its closing quote, or false and i at the mistake. */
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    i++;
    while (i < n) {
      PLAIN.lastIndex = i;
      PLAIN.test(text);
      i = PLAIN.lastIndex;
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c !== 0x5c) return false; // a control character, or the end of the text
      ESCAPE.lastIndex = i;
      if (!ESCAPE.test(text)) return false;
      i = ESCAPE.lastIndex;
    }
    return false;
  };
  /** A key and its colon, after `{` or `,` in an object. */
  const key = (): boolean => {
    skipSpace();
    if (!string()) return false;
    skipSpace();
    if (text[i] !== ":") return false;
    i++;
    return true;
  };

  for (;;) {
    // A value starts here.
    skipSpace();
    const c = text[i];
    if (c === "{" || c === "[") {
      i++;
      skipSpace();
      if (text[i] === (c === "{" ? "}" : "]")) i++;
      else {
        open.push(c);
        if (c === "{" && !key()) return i;
        continue;
      }
    } else if (c === '"') {
      if (!string()) return i;
    } else if (LITERALS.some((l) => text.startsWith(l, i))) {
      i += LITERALS.find((l) => text.startsWith(l, i))!.length;
    } else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) return i;
      i = NUMBER.lastIndex;
    }
    // After a value: a comma, the end of its container, or the end of the text.
    for (;;) {
      skipSpace();
      const container = open.at(-1);
      if (container === undefined) return i === n ? -1 : i;
      if (text[i] === ",") {
        i++;
        if (container === "{" && !key()) return i;
        break;
      }
      if (text[i] !== (container === "{" ? "}" : "]")) return i;
      i++;
      open.pop();
    }
  }
}
