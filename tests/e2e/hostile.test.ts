import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  readFile,
  runApp,
  startFleet,
  startSender,
  startWorker,
  tempDir,
} from "./harness.js";

const FLOOD = fileURLToPath(new URL("../../packages/transport-zmq/test/fixtures/flood.mjs", import.meta.url));

/** Bytes a terminal acts on or that break a line (LF ends lines and is allowed between them). */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTS = 12;
const HOSTILE = [1, 4, 5, 9];

function expectClean(where: string, text: string) {
  const bad = RAW.exec(text);
  expect(bad, `${where}: raw ${JSON.stringify(bad?.[0])} at ${bad?.index}`).toBeNull();
}

describe("hostile hosts through the whole pipeline", () => {
  it("text, CSV and NDJSON, in the file and on stdout: no raw control byte, one line per host, no forged host", async () => {
    const fleet = await startFleet(HOSTS, [
      "--behaviours",
      HOSTILE.map((i) => `${i}:hostile-stderr`).join(","),
    ]);
    const dir = await tempDir();
    const ep = await endpoints();
    const worker = startWorker("w1", 8, ep, fleet);
    for (const format of ["text", "csv"] as const) {
      const out = join(dir, `out.${format}`);
      const record = join(dir, `record-${format}.ndjson`);
      const sink = runApp(BIN.sink, [out, "--bind", ep.results, "--format", format, "--record", record]);
      await sink.waitFor(/listening/);
      const sender = startSender(fleet.inventory, ep, ["--job", `hostile-${format}`]);
      expect(await sender.exited, sender.stderr()).toBe(0);
      await sink.waitFor(/results, \d+ ok/);
      sink.child.kill("SIGTERM");
      expect(await sink.exited, sink.stderr()).toBe(0);

      const file = await readFile(out, "utf8");
      for (const [where, text] of [
        [out, file],
        [`${format} stdout`, sink.stdout()],
        [record, await readFile(record, "utf8")],
        ["sink stderr", sink.stderr()],
        ["sender stderr", sender.stderr()],
      ] as const)
        expectClean(where, text);
      const lines = file.trimEnd().split("\n");
      const rows = format === "csv" ? lines.slice(1) : lines;
      expect(rows).toHaveLength(HOSTS);
      expect(sink.stdout().trimEnd().split("\n")).toEqual(lines);
      if (format === "text") {
        const hosts = rows.map((l) => /^worker_id: \S+, host: ([^\s,"]+), /.exec(l)?.[1]);
        expect(new Set(hosts)).toEqual(new Set(fleet.targets));
        // Outside quoted strings, each line names one host; the forged ones sit inside quotes.
        for (const l of rows) expect(l.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/host: /g)).toHaveLength(1);
        expect(rows.filter((l) => l.includes("10.9.9.9"))).toHaveLength(HOSTILE.length);
        // The byte that was not UTF-8 is shown as itself, not as U+FFFD.
        expect(rows.filter((l) => l.includes("\\xff"))).toHaveLength(HOSTILE.length);
        expect(rows.filter((l) => /, error: EXIT_STATUS "exit status 1: \\x1b]52;c;/.test(l))).toHaveLength(
          HOSTILE.length,
        );
      } else {
        expect(new Set(rows.map((l) => l.split(",")[2]))).toEqual(new Set(fleet.targets));
      }
      const recorded = (await readFile(record, "utf8"))
        .trimEnd()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as { target: string; ok: boolean; error?: { message: string }; bootedAt?: string },
        );
      expect(new Set(recorded.map((r) => r.target))).toEqual(new Set(fleet.targets));
      // NDJSON strips nothing: the escape sequence is there, JSON-escaped.
      const hostile = recorded.filter((r) => !r.ok);
      expect(hostile).toHaveLength(HOSTILE.length);
      for (const r of hostile) expect(r.error?.message).toContain("\u001b]52;c;ZXZpbA==\u0007");
      for (const r of recorded.filter((r) => r.ok))
        expect(r.bootedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    worker.child.kill("SIGTERM");
    await worker.exited;
    expectClean("worker stderr", worker.stderr());
  }, 120_000);

  it("the sink reports the frames it rejected when it exits", async () => {
    const dir = await tempDir();
    const ep = await endpoints();
    const sink = runApp(BIN.sink, [join(dir, "out.txt"), "--bind", ep.results, "--quiet"]);
    await sink.waitFor(/listening/);
    const [host, port] = ep.results.replace("tcp://", "").split(":");
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), host, () => {
          s.write(Buffer.from("\u001b]52;c;junk\u0007 not ZMTP at all\r\n".repeat(20)));
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 200);
        });
        s.on("error", () => resolve());
      });
    }
    // Raw bytes die in libzmq's handshake; malformed messages from a ZeroMQ peer reach the sink and are counted.
    const junk = runApp(FLOOD, ["30", ep.results]);
    await junk.waitFor(/"done":true/, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    sink.child.kill("SIGTERM");
    expect(await sink.exited, sink.stderr()).toBe(0);
    expect(sink.stderr()).toMatch(/warning: [1-9]\d* malformed or unauthorised frames? rejected/);
    expectClean("sink stderr", sink.stderr());
  }, 60_000);
});
