import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { Result } from "@uptime/protocol";
import { sampleResult, tempDir } from "@uptime/test-utils";
import { describe, expect, it } from "vitest";
import { formatResult } from "./format.js";
import { SinkStore } from "./store.js";

describe("formats", () => {
  it("text is the original's line format", () => {
    expect(formatResult(sampleResult(15), "text")).toBe(
      "worker_id: worker1_3, host: host15, result: 65 days, 17:07\n",
    );
    expect(formatResult(sampleResult(19, false), "text")).toBe(
      'worker_id: worker1_3, host: host19, error: DNS "getaddrinfo ENOTFOUND bzz"\n',
    );
  });
  it("ndjson and csv carry the job and seq", () => {
    expect(JSON.parse(formatResult(sampleResult(3), "ndjson"))).toMatchObject({
      job: "j1",
      seq: 3,
      ok: true,
    });
    const bad = {
      ...sampleResult(4, false),
      error: { code: "EXIT_STATUS", message: 'exit 1: "no", sorry' },
    } as Result;
    expect(formatResult(bad, "csv")).toContain('"exit 1: ""no"", sorry"');
  });
});

describe("SinkStore", () => {
  it("stores each (job, seq) once, also across a restart", async () => {
    const dir = await tempDir("sink-store-");
    const outFile = join(dir, "out.txt");
    const out = new PassThrough();
    let s = await SinkStore.open({ outFile, format: "text", print: false, out });
    expect((await s.writeFresh([sampleResult(0), sampleResult(1), sampleResult(1)])).length).toBe(2);
    expect((await s.writeFresh([sampleResult(0), sampleResult(2)])).length).toBe(1);
    await s.close();
    s = await SinkStore.open({ outFile, format: "text", print: false, out });
    expect(s.has("j1", 2)).toBe(true);
    expect(s.has("j1", 3)).toBe(false);
    expect((await s.writeFresh([sampleResult(2), sampleResult(3)])).map((r) => r.seq)).toEqual([3]);
    await s.close();
    const lines = (await readFile(outFile, "utf8")).trimEnd().split("\n");
    expect(lines.map((l) => l.split("host: ")[1]?.split(",")[0])).toEqual([
      "host0",
      "host1",
      "host2",
      "host3",
    ]);
  });

  it("cuts output written after the last journal commit (a sink killed between the two writes)", async () => {
    const dir = await tempDir("sink-store-");
    const outFile = join(dir, "out.ndjson");
    const s = await SinkStore.open({ outFile, format: "ndjson", print: false });
    await s.writeFresh([sampleResult(0), sampleResult(1)]);
    await s.close();
    const good = await readFile(outFile, "utf8");
    // An uncommitted line and a torn one, as a kill -9 could leave them; plus a torn journal line.
    await writeFile(outFile, `${good}${formatResult(sampleResult(2), "ndjson")}{"job":"j1","se`);
    await writeFile(`${outFile}.journal`, `${await readFile(`${outFile}.journal`, "utf8")}["j1",2,9`);
    const warnings: string[] = [];
    const s2 = await SinkStore.open({
      outFile,
      format: "ndjson",
      print: false,
      warn: (m) => warnings.push(m),
    });
    expect(warnings.join()).toMatch(/cutting \d+ bytes/);
    expect(await readFile(outFile, "utf8")).toBe(good);
    expect(s2.has("j1", 2)).toBe(false);
    await s2.writeFresh([sampleResult(2)]);
    await s2.close();
    const lines = (await readFile(outFile, "utf8"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).seq);
    expect(lines).toEqual([0, 1, 2]);
  });

  it("journals one line per job of a batch, and still reads a journal of one line per result", async () => {
    const dir = await tempDir("sink-store-");
    const outFile = join(dir, "out.txt");
    let s = await SinkStore.open({ outFile, format: "text", print: false });
    await s.writeFresh([sampleResult(0), sampleResult(1), sampleResult(0, true, "j2"), sampleResult(2)]);
    await s.close();
    const journal = (await readFile(`${outFile}.journal`, "utf8")).trimEnd().split("\n");
    const size = (await readFile(outFile)).length;
    expect(journal.slice(1).map((l) => JSON.parse(l))).toEqual([
      ["j1", [0, 1, 2], size],
      ["j2", [0], size],
    ]);
    // An older sink's journal: one [job, seq, committed] line per result.
    await writeFile(
      `${outFile}.journal`,
      `${journal[0]}\n["j1",0,${size}]\n["j1",1,${size}]\n["j2",0,${size}]\n["j1",2,${size}]\n`,
    );
    s = await SinkStore.open({ outFile, format: "text", print: false });
    expect([s.has("j1", 0), s.has("j1", 2), s.has("j2", 0), s.has("j1", 3)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(s.count).toBe(4);
    expect((await s.writeFresh([sampleResult(2), sampleResult(3)])).map((r) => r.seq)).toEqual([3]);
    await s.close();
    expect((await readFile(outFile, "utf8")).trimEnd().split("\n")).toHaveLength(5);
  });

  it("writes the CSV header once", async () => {
    const dir = await tempDir("sink-store-");
    const outFile = join(dir, "out.csv");
    let s = await SinkStore.open({ outFile, format: "csv", print: false });
    await s.writeFresh([sampleResult(0)]);
    await s.close();
    s = await SinkStore.open({ outFile, format: "csv", print: false });
    await s.writeFresh([sampleResult(1)]);
    await s.close();
    const text = await readFile(outFile, "utf8");
    expect(text.match(/^job,seq/gm)?.length).toBe(1);
    expect(text.trimEnd().split("\n").length).toBe(3);
  });
});

describe("SinkStore with a record file", () => {
  it("writes every result to both, journals both lengths, and recovers both after a crash", async () => {
    const dir = await tempDir("sink-store-");
    const outFile = join(dir, "out.txt");
    const recordFile = join(dir, "record.ndjson");
    const s = await SinkStore.open({ outFile, recordFile, format: "text", print: false });
    await s.writeFresh([sampleResult(0), sampleResult(1, false)]);
    await s.close();
    const out = await readFile(outFile, "utf8");
    const record = await readFile(recordFile, "utf8");
    const journal = (await readFile(`${outFile}.journal`, "utf8")).trimEnd().split("\n");
    expect(journal.map((l) => JSON.parse(l))).toEqual([
      ["@", 0, 0],
      ["j1", [0, 1], Buffer.byteLength(out), Buffer.byteLength(record)],
    ]);
    expect(
      record
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual([0, 1]);
    // Killed after writing the record, before the journal: the extra record line is cut.
    await writeFile(recordFile, `${record}${formatResult(sampleResult(2), "ndjson")}`);
    const warnings: string[] = [];
    const s2 = await SinkStore.open({
      outFile,
      recordFile,
      format: "text",
      print: false,
      warn: (m) => warnings.push(m),
    });
    expect(warnings.join()).toMatch(/record\.ndjson: cutting \d+ bytes/);
    expect(await readFile(recordFile, "utf8")).toBe(record);
    expect(s2.has("j1", 2)).toBe(false);
    await s2.writeFresh([sampleResult(1), sampleResult(2)]);
    await s2.close();
    expect(
      (await readFile(recordFile, "utf8"))
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual([0, 1, 2]);
    expect((await readFile(outFile, "utf8")).trimEnd().split("\n")).toHaveLength(3);
  });

  it("without an OUTFILE the record is the durable store (its own journal)", async () => {
    const dir = await tempDir("sink-store-");
    const recordFile = join(dir, "record.ndjson");
    const out = new PassThrough();
    let printed = "";
    out.on("data", (d) => {
      printed += String(d);
    });
    let s = await SinkStore.open({ recordFile, format: "csv", out });
    await s.writeFresh([sampleResult(0), sampleResult(1)]);
    await s.close();
    s = await SinkStore.open({ recordFile, format: "csv", out });
    expect(s.has("j1", 1)).toBe(true);
    expect((await s.writeFresh([sampleResult(1), sampleResult(2)])).map((r) => r.seq)).toEqual([2]);
    await s.close();
    expect(printed.match(/^job,seq/gm)).toHaveLength(2); // one header per process
    expect(printed.trimEnd().split("\n")).toHaveLength(5);
    expect((await readFile(`${recordFile}.journal`, "utf8")).length).toBeGreaterThan(0);
  });
});
