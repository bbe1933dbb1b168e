import { describe, expect, it } from "vitest";
import { ResultLedger } from "./result-ledger.js";

describe("ResultLedger", () => {
  it("keeps results until receipted and hands out the stale ones oldest first", async () => {
    const ledger = new ResultLedger();
    ledger.record("j", 1, Buffer.from("r1"));
    ledger.record("j", 2, Buffer.from("r2"));
    ledger.record("k", 1, Buffer.from("k1"));
    expect(ledger.size).toBe(3);
    expect(ledger.takeStale(60_000)).toEqual([]);
    ledger.receipt("j", [2, 99]);
    expect(ledger.size).toBe(2);
    expect(ledger.takeStale(0).map(String)).toEqual(["r1", "k1"]);
    await new Promise((r) => setTimeout(r, 100));
    ledger.record("j", 3, Buffer.from("r3"));
    // r1 and k1 were sent again 100 ms ago, r3 is fresh
    expect(ledger.takeStale(80).map(String)).toEqual(["r1", "k1"]);
    expect(ledger.takeStale(80)).toEqual([]);
  });

  it("recording a result again moves it to the end", () => {
    const ledger = new ResultLedger();
    ledger.record("j", 1, Buffer.from("a"));
    ledger.record("j", 2, Buffer.from("b"));
    ledger.record("j", 1, Buffer.from("a2"));
    expect(ledger.takeStale(0).map(String)).toEqual(["b", "a2"]);
  });
});
