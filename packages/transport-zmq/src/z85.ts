import { describeValue } from "@uptime/protocol/check";

/**
 * Z85 (ZeroMQ RFC 32) encoding. zeromq.js exposes no encoder, and the ZAP handler
 * receives client keys as 32 raw bytes, so we encode them ourselves to compare
 * against an allow-list of Z85 public keys.
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const KEY_RE = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/**
 * Encodes bytes as Z85. The length must be a multiple of 4.
 *
 * @example
 * z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])); // "HelloWorld"
 */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) {
    throw new TypeError(`z85Encode: expected a length that is a multiple of 4, got ${data.length}`);
  }
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!;
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!;
      value = Math.floor(value / 85);
    }
    out += chunk.join("");
  }
  return out;
}

/**
 * Decodes a Z85 string. Returns `undefined` when the text is not valid Z85
 * (wrong length, a character outside the alphabet, or a value overflowing 32 bits).
 */
export function z85Decode(text: string): Uint8Array | undefined {
  if (text.length % 5 !== 0) return undefined;
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? DECODE[code]! : -1;
      if (digit < 0) return undefined;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return undefined;
    out[o] = (value >>> 24) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** Whether `key` is a CURVE key in Z85: 40 characters of the Z85 alphabet that decode to 32 bytes. */
export function isZ85Key(key: unknown): key is string {
  return typeof key === "string" && KEY_RE.test(key) && z85Decode(key) !== undefined;
}

/**
 * Throws a TypeError (code `INVALID_OPTION`) naming `option` unless `key` is a valid Z85 CURVE key:
 * "Expected \`curve.secretKey\` to be a 40-character Z85 CURVE key, got a 12-character string".
 * The value itself is never shown: it may be a secret key.
 */
export function assertZ85Key(key: unknown, option: string): asserts key is string {
  if (!isZ85Key(key)) {
    const shown = typeof key === "string" ? `a ${key.length}-character string` : describeValue(key);
    throw Object.assign(
      new TypeError(`Expected \`${option}\` to be a 40-character Z85 CURVE key, got ${shown}`),
      { code: "INVALID_OPTION" },
    );
  }
}
