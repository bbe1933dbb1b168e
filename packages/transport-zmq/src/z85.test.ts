import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { curveKeyPair } from "zeromq";
import { isZ85Key, z85Decode, z85Encode } from "./z85.js";

describe("z85", () => {
  it("matches the RFC 32 test vector", () => {
    const bytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe("HelloWorld");
    expect(z85Decode("HelloWorld")).toEqual(bytes);
  });

  it("round-trips random 32-byte keys and zeromq's own keys", () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32);
      const text = z85Encode(key);
      expect(text).toHaveLength(40);
      expect(isZ85Key(text)).toBe(true);
      expect(Buffer.from(z85Decode(text)!)).toEqual(key);
    }
    const { publicKey, secretKey } = curveKeyPair();
    expect(z85Encode(z85Decode(publicKey)!)).toBe(publicKey);
    expect(z85Encode(z85Decode(secretKey)!)).toBe(secretKey);
  });

  it("edge values encode and decode", () => {
    expect(z85Encode(new Uint8Array(4).fill(0xff))).toBe("%nSc0");
    expect(z85Encode(new Uint8Array(4))).toBe("00000");
    expect(z85Decode("%nSc1")).toBeUndefined(); // over 2^32
  });

  it("refuses what is not Z85", () => {
    expect(() => z85Encode(new Uint8Array(3))).toThrow(TypeError);
    expect(z85Decode("abcd")).toBeUndefined();
    expect(z85Decode("abc~e")).toBeUndefined();
    expect(z85Decode("abcé1")).toBeUndefined();
    expect(isZ85Key("a".repeat(39))).toBe(false);
    expect(isZ85Key("a".repeat(41))).toBe(false);
    expect(isZ85Key(`${"a".repeat(39)}"`)).toBe(false);
    expect(isZ85Key(`${"a".repeat(39)} `)).toBe(false);
    expect(isZ85Key(42)).toBe(false);
    expect(isZ85Key("%nSc1".repeat(8))).toBe(false);
  });
});
