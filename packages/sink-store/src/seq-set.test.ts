import { describe, expect, it } from "vitest";
import { SeqSet } from "./seq-set.js";

describe("SeqSet", () => {
  it("keeps 2^32+k apart from k", () => {
    const s = new SeqSet();
    expect(s.add(7)).toBe(true);
    expect(s.has(2 ** 32 + 7)).toBe(false);
    expect(s.add(2 ** 32 + 7)).toBe(true);
    expect(s.add(2 ** 32 + 7)).toBe(false);
    expect(s.has(2 ** 32 + 8)).toBe(false);
    expect(s.size).toBe(2);
    expect(s.delete(7)).toBe(true);
    expect(s.has(2 ** 32 + 7)).toBe(true);
    expect(s.has(7)).toBe(false);
  });

  it("holds 2^53-1 in one small chunk, not by the largest value", () => {
    const s = new SeqSet();
    expect(s.add(2 ** 53 - 1)).toBe(true);
    expect(s.add(2 ** 32 - 1)).toBe(true);
    expect(s.add(0)).toBe(true);
    expect(s.has(2 ** 53 - 1)).toBe(true);
    expect(s.has(2 ** 53 - 2)).toBe(false);
    expect(s.size).toBe(3);
    expect(s.bytes).toBeLessThanOrEqual(3 * 512);
  });

  it("refuses what is not a seq", () => {
    const s = new SeqSet();
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => s.add(bad)).toThrow(RangeError);
      expect(s.has(bad)).toBe(false);
    }
    expect(s.size).toBe(0);
  });

  it("a dense job of 100,000 seqs costs about n/8 bytes", () => {
    const s = new SeqSet();
    for (let i = 0; i < 100_000; i++) s.add(i);
    for (let i = 0; i < 100_000; i += 997) expect(s.has(i)).toBe(true);
    expect(s.has(100_000)).toBe(false);
    expect(s.size).toBe(100_000);
    expect(s.bytes).toBeLessThanOrEqual(Math.ceil(100_000 / 4096) * 512);
  });
});
