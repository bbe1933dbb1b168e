import { describe, expect, it } from "vitest";
import { decode, encode } from "./codec.js";
import { decodeUtf8, escapeText, hasUnsafeText, quoteText } from "./escape.js";

/** Any character a terminal acts on, or that breaks a line. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

describe("escapeText", () => {
  it.each([
    ["ESC and OSC 52 (clipboard)", "\u001b]52;c;ZXZpbA==\u0007", "\\x1b]52;c;ZXZpbA==\\x07"],
    ["screen clear", "\u001b[2J\u001b[H", "\\x1b[2J\\x1b[H"],
    ["NUL, BEL, DEL", "a\u0000b\u0007c\u007f", "a\\x00b\\x07c\\x7f"],
    ["CR, LF, tab", "x\r\ny\tz", "x\\r\\ny\\tz"],
    ["C1 controls (CSI, NEL)", "\u009b31m\u0085", "\\x9b31m\\x85"],
    ["line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    [
      "bidi overrides and isolates",
      "\u202eevil\u202c \u2066x\u2069 \u200f",
      "\\u202eevil\\u202c \\u2066x\\u2069 \\u200f",
    ],
    ["backslash", "C:\\dir", "C:\\\\dir"],
    ["a lone surrogate", "a\ud800b", "a\\ud800b"],
    [
      "a forged host line",
      "ok\nworker_id: w_1, host: 10.9.9.9, result: 999 days",
      "ok\\nworker_id: w_1, host: 10.9.9.9, result: 999 days",
    ],
  ])("%s", (_, input, expected) => {
    expect(escapeText(input)).toBe(expected);
    expect(escapeText(input)).not.toMatch(RAW);
    expect(hasUnsafeText(input)).toBe(true);
  });

  it("keeps printable text of any script, and emoji", () => {
    const s = "Grüße, 日本語, Ελληνικά, עברית, 🙂 65 days, 17:07";
    expect(escapeText(s)).toBe(s);
    expect(hasUnsafeText(s)).toBe(false);
  });

  it("quoteText escapes the quote too: message text cannot close it", () => {
    expect(quoteText('no "such" file\n')).toBe('"no \\"such\\" file\\n"');
  });

  it("every one of the 65,536 UTF-16 code units is either printable or escaped", () => {
    for (let c = 0; c < 0x10000; c++) expect(escapeText(String.fromCharCode(c))).not.toMatch(RAW);
  });
});

describe("decodeUtf8", () => {
  it("decodes valid UTF-8 as usual", () => {
    expect(decodeUtf8(new TextEncoder().encode("héllo 🙂"))).toBe("héllo 🙂");
  });

  it("keeps each invalid byte, shown by escapeText as \\xHH, also across the wire", () => {
    const bytes = new Uint8Array([0x6f, 0x6b, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xe2, 0x82]);
    const text = decodeUtf8(bytes);
    expect(escapeText(text)).toBe("ok\\xff\\xc3(\\xed\\xa0\\x80\\xe2\\x82");
    const sent = decode(encode({ t: "stop", job: "j1", reason: text }));
    expect(sent.ok && sent.message.t === "stop" && escapeText(sent.message.reason)).toBe(
      "ok\\xff\\xc3(\\xed\\xa0\\x80\\xe2\\x82",
    );
  });
});
