import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { unlessAborted } from "./abort.js";

describe("unlessAborted", () => {
  it("resolves with the promise's value and leaves no listener on the signal", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 1000; i++) {
      expect(await unlessAborted(Promise.resolve(i), ac.signal, -1)).toBe(i);
    }
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("passes a rejection through and removes its listener", async () => {
    const ac = new AbortController();
    await expect(unlessAborted(Promise.reject(new Error("boom")), ac.signal, -1)).rejects.toThrow("boom");
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("resolves with the abort value when the signal aborts first", async () => {
    const ac = new AbortController();
    const pending = unlessAborted(new Promise<number>(() => {}), ac.signal, -1);
    ac.abort();
    expect(await pending).toBe(-1);
    expect(await unlessAborted(Promise.resolve(1), ac.signal, -2)).toBe(-2);
  });
});
