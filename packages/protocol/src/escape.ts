/**
 * What a terminal or a line-oriented file must never get raw from a host: C0 controls
 * (newline, CR, ESC, NUL, BEL, ...), DEL, C1 controls, the line and paragraph separators,
 * bidirectional overrides, isolates and marks, the backslash (so an escape is unambiguous),
 * and lone surrogates (bytes that were not UTF-8, see {@link decodeUtf8}).
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  // A byte that was not UTF-8, carried as U+DC80..U+DCFF: show the byte.
  if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16).padStart(2, "0")}`;
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Escapes text a host controls (stderr, signal names, disconnect reasons, uptime output) for a
 * line of text output or a terminal: the result has no control character, no line break, no
 * bidi override and no lone surrogate; `\` becomes `\\`, newline `\n`, CR `\r`, tab `\t`, other
 * controls `\xHH` or `\uHHHH`, and a byte that was not UTF-8 (see {@link decodeUtf8}) `\xHH`.
 * Printable text, any script, is kept as it is.
 *
 * @example
 * escapeText("ok\u001b]52;c;aGk=\u0007\nhost: x"); // 'ok\\x1b]52;c;aGk=\\x07\\nhost: x'
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * {@link escapeText} in double quotes, with `"` escaped too: one token that message text
 * cannot end early.
 *
 * @example
 * quoteText('no "such" file'); // '"no \\"such\\" file"'
 */
export function quoteText(text: string): string {
  return `"${escapeText(text).replace(/"/g, '\\"')}"`;
}

/** Whether `text` needs {@link escapeText} (has something a terminal must not get raw). */
export function hasUnsafeText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes UTF-8 without losing what is not UTF-8: each byte of an invalid sequence becomes a
 * lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"), which survives JSON on the wire
 * and which {@link escapeText} shows as `\xHH`. Valid text decodes as usual.
 *
 * @example
 * escapeText(decodeUtf8(new Uint8Array([0x6f, 0x6b, 0xff]))); // 'ok\\xff'
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    // fall through: decode sequence by sequence
  }
  let out = "";
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (i > start) out += decoder.decode(bytes.subarray(start, i));
    out += String.fromCharCode(0xdc00 + (bytes[i] as number));
    i++;
    start = i;
  }
  if (start < bytes.length) out += decoder.decode(bytes.subarray(start));
  return out;
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
