import { cp, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Result } from "@uptime/protocol";
import { fillUp, mountTmpfs, tempDir } from "@uptime/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { SinkStore } from "../src/index.js";

function result(seq: number, job = "j1"): Result {
  return {
    v: 1,
    t: "result",
    job,
    seq,
    attempt: 1,
    target: `host${seq}.example.net`,
    worker: "worker1",
    slot: seq % 4,
    durationMs: 1.5,
    at: 1_700_000_000_000,
    ok: true,
    uptime: { raw: " 10:00:00 up 65 days, 17:07", text: "65 days, 17:07", seconds: 5_677_620 },
  };
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => result(from + i));

/** Each line parses as a whole result; the seqs in file order. */
async function seqsIn(path: string): Promise<number[]> {
  const text = await readFile(path, "utf8");
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Result).seq);
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SinkStore on a full disk (real tmpfs)", () => {
  it("holds a batch the disk refuses, writes nothing torn, marks nothing, then stores it when space returns", async () => {
    const dir = mountTmpfs("64k");
    const outFile = join(dir, "out.ndjson");
    const errors: string[] = [];
    const warnings: string[] = [];
    const store = await SinkStore.open({
      outFile,
      format: "ndjson",
      print: false,
      retryMs: 20,
      loudEveryMs: 60_000,
      error: (m) => errors.push(m),
      warn: (m) => warnings.push(m),
    });
    onTestFinished(() => store.close());
    expect((await store.writeFresh(range(0, 10))).length).toBe(10);
    const before = (await stat(outFile)).size;
    fillUp(join(dir, "filler"));

    let settled = false;
    const pending = store.writeFresh(range(10, 200)).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    // While it retries, a reader never sees more than the committed lines: a retry writes only
    // when the file system reports room for the whole batch.
    // (The first, short write is cut back before the failure is counted.)
    while (store.metrics().failedWrites < 1) await tick(5);
    const sizes = new Set<number>();
    while (store.metrics().failedWrites < 3) {
      sizes.add((await stat(outFile)).size);
      await tick(5);
    }
    expect([...sizes]).toEqual([before]);
    expect(settled).toBe(false);
    const m = store.metrics();
    expect(m.held).toBe(200);
    expect(m.failedWrites).toBeGreaterThan(2);
    expect(m.failing).toMatch(/ENOSPC/);
    expect(store.has("j1", 10)).toBe(false);
    expect(store.count).toBe(10);
    expect((await stat(outFile)).size).toBe(before);
    expect(await seqsIn(outFile)).toEqual(range(0, 10).map((r) => r.seq));
    // Loud once, then rate-limited (loudEveryMs is a minute here).
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/cannot store results: .*out\.ndjson.*ENOSPC.*holding 200 results/);

    await rm(join(dir, "filler"));
    expect((await pending).length).toBe(200);
    expect(store.has("j1", 209)).toBe(true);
    expect(store.metrics()).toMatchObject({ held: 0, stored: 210 });
    expect(warnings.join("\n")).toMatch(/writable again .* 200 held results/);
    expect(await seqsIn(outFile)).toEqual(range(0, 210).map((r) => r.seq));
  });

  it("a journal write that fails after the output's cuts the output back (nothing stored twice)", async () => {
    const dir = mountTmpfs("1m");
    const outFile = join(dir, "out.ndjson");
    const store = await SinkStore.open({ outFile, format: "ndjson", print: false, retryMs: 1000 });
    onTestFinished(() => store.close());
    // One result per batch until the journal's last page is almost full and the output's is not:
    // then, on a full disk, the output append fits in its page and the journal's does not.
    let seq = 0;
    for (;;) {
      await store.writeFresh([result(seq++)]);
      const out = (await stat(outFile)).size;
      const journal = (await stat(`${outFile}.journal`)).size;
      if (4096 - (journal % 4096) < 20 && 4096 - (out % 4096) > 400) break;
      expect(seq).toBeLessThan(5000);
    }
    const outBefore = (await stat(outFile)).size;
    const journalBefore = (await stat(`${outFile}.journal`)).size;
    fillUp(join(dir, "filler"));
    let settled = false;
    const pending = store.writeFresh([result(seq)]).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    // Just after the first failed attempt (rolled back before it is counted); the next is 1 s away.
    while (store.metrics().failedWrites === 0) await tick(2);
    expect(settled).toBe(false);
    expect(store.metrics().failing).toMatch(/out\.ndjson\.journal: .*ENOSPC/);
    expect((await stat(outFile)).size).toBe(outBefore);
    expect((await stat(`${outFile}.journal`)).size).toBe(journalBefore);
    expect(store.has("j1", seq)).toBe(false);

    // Restarted elsewhere with the same files (as after kill -9): the same stored set, and the
    // held result comes again and is stored once.
    const elsewhere = await tempDir("sink-elsewhere-");
    await cp(outFile, join(elsewhere, "out.ndjson"));
    await cp(`${outFile}.journal`, join(elsewhere, "out.ndjson.journal"));
    const moved = await SinkStore.open({
      outFile: join(elsewhere, "out.ndjson"),
      format: "ndjson",
      print: false,
    });
    expect(moved.count).toBe(seq);
    expect(moved.has("j1", seq)).toBe(false);
    await moved.writeFresh([result(seq - 1), result(seq)]);
    await moved.close();
    expect(await seqsIn(join(elsewhere, "out.ndjson"))).toEqual(range(0, seq + 1).map((r) => r.seq));

    await rm(join(dir, "filler"));
    await pending;
    expect(await seqsIn(outFile)).toEqual(range(0, seq + 1).map((r) => r.seq));
  });

  it("stopRetrying gives the held batch up: it rejects, is counted unstored and stays unmarked", async () => {
    const dir = mountTmpfs("32k");
    const outFile = join(dir, "out.txt");
    const recordFile = join(dir, "record.ndjson");
    const store = await SinkStore.open({ outFile, recordFile, format: "text", print: false, retryMs: 20 });
    onTestFinished(() => store.close());
    await store.writeFresh(range(0, 5));
    fillUp(join(dir, "filler"));
    const pending = store.writeFresh(range(5, 300));
    while (store.metrics().failedWrites < 2) await tick(5);
    store.stopRetrying();
    await expect(pending).rejects.toMatchObject({ code: "STORE_WRITE", results: 300 });
    expect(store.metrics()).toMatchObject({ unstored: 300, stored: 5 });
    expect(store.has("j1", 5)).toBe(false);
    expect(await seqsIn(recordFile)).toEqual([0, 1, 2, 3, 4]);
    expect((await readFile(outFile, "utf8")).trimEnd().split("\n")).toHaveLength(5);
  });
});
