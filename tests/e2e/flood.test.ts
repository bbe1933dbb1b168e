import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  endpoints,
  hostsInOutput,
  runApp,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
} from "./harness.js";

const FLOOD = fileURLToPath(new URL("../../packages/transport-zmq/test/fixtures/flood.mjs", import.meta.url));

/** Resident set size of a process in bytes, from /proc; undefined once it has exited. */
async function rss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** A child spinning one core for at most `ms` (killed when the test ends). */
function cpuBurner(ms: number): void {
  const child = spawn(
    process.execPath,
    ["-e", `const end = Date.now() + ${ms}; while (Date.now() < end) {}`],
    {
      stdio: "ignore",
    },
  );
  onTestFinished(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
}

describe("fair under flood", () => {
  it("10,000 junk messages and 10 MiB frames into sender and sink during a 1,000-host job, beside a CPU burner: every host once, none abandoned, memory back near baseline", async () => {
    const fleet = await startFleet(1000, ["--latency", "5"]);
    const ep = await endpoints();
    const dir = await tempDir();
    const out = join(dir, "out.txt");
    const sink = await startSink(out, ep);
    // A watermark keeps the job running while the flood passes.
    const sender = startSender(fleet.inventory, ep, ["--progress", "off", "--watermark", "40"]);
    await sender.waitFor(/waiting for workers/);
    const senderPid = sender.child.pid!;
    const sinkPid = sink.child.pid!;
    const base = { sender: (await rss(senderPid))!, sink: (await rss(sinkPid))! };
    expect(base.sender).toBeGreaterThan(0);

    cpuBurner(30_000);
    const flood = runApp(FLOOD, ["10000", ep.tasks, ep.results]);
    startWorker("w1", 20, ep, fleet);
    startWorker("w2", 20, ep, fleet);
    await flood.waitFor(/"done":true/, 60_000);

    // After the flood: the lowest RSS seen while each process still runs (the sender until its job ends).
    const after = { sender: Number.POSITIVE_INFINITY, sink: Number.POSITIVE_INFINITY };
    let senderDone = false;
    void sender.exited.then(() => {
      senderDone = true;
    });
    while (!senderDone) {
      const s = await rss(senderPid);
      if (s !== undefined && !senderDone) after.sender = Math.min(after.sender, s);
      const k = await rss(sinkPid);
      if (k !== undefined) after.sink = Math.min(after.sink, k);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await sender.exited).toBe(0);
    const k = await rss(sinkPid);
    if (k !== undefined) after.sink = Math.min(after.sink, k);
    process.stderr.write(
      `flood: RSS sender ${(base.sender / 2 ** 20).toFixed(0)} -> ${(after.sender / 2 ** 20).toFixed(0)} MiB, sink ${(base.sink / 2 ** 20).toFixed(0)} -> ${(after.sink / 2 ** 20).toFixed(0)} MiB\n`,
    );
    expect(after.sender).toBeLessThanOrEqual(2 * base.sender);
    expect(after.sink).toBeLessThanOrEqual(2 * base.sink);
    expect(sender.stderr()).not.toMatch(/abandoned/);
    expect(sender.stderr()).toMatch(/1000 results \(1000 ok/);

    const hosts = await hostsInOutput(out);
    expect(hosts).toHaveLength(1000);
    expect(new Set(hosts).size).toBe(1000);
    expect(sink.stderr()).toMatch(/suppressed|cut off|rejected a frame/);
  }, 120_000);
});
