import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fillUp, mountTmpfs } from "@uptime/test-utils";
import { describe, expect, it } from "vitest";
import {
  endpoints,
  hostsInOutput,
  readFile,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
  waitForLines,
} from "./harness.js";

const QUICK_LOSS = ["--heartbeat-timeout", "1500ms", "--heartbeat-interval", "300ms"];
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every line whole and well-formed (no torn line), and the hosts in them. */
async function wholeLines(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8");
  expect(text === "" || text.endsWith("\n")).toBe(true);
  for (const line of text.split("\n").filter(Boolean)) expect(line).toMatch(/^worker_id: \S+, host: \S+, /);
  return hostsInOutput(file);
}

function expectOnePerHost(hosts: string[], targets: string[]) {
  expect(hosts.length).toBe(targets.length);
  expect(new Set(hosts)).toEqual(new Set(targets));
}

describe("the sink on a full disk (a real tmpfs; apps as processes)", () => {
  it("holds results while the disk is full, sends no receipts, and stores every host once when space returns", async () => {
    const fleet = await startFleet(300, ["--latency", "40"]);
    const dir = mountTmpfs("256k");
    const out = join(dir, "out.txt");
    const record = join(dir, "record.ndjson");
    const ep = await endpoints();
    const sink = await startSink(out, ep, ["--record", record]);
    startWorker("worker1", 6, ep, fleet);
    const sender = startSender(fleet.inventory, ep, QUICK_LOSS);
    await waitForLines(out, 40, 60_000);
    fillUp(join(dir, "filler"));
    await sink.waitFor(/error: cannot store results: .*ENOSPC/);
    await tick(1500); // receipts already on their way arrive; nothing more is stored
    const stuck = await wholeLines(out);
    expect(stuck.length).toBeLessThan(300);
    await tick(3000);
    // Nothing written, nothing receipted: the sender neither finishes nor exits.
    expect(await wholeLines(out)).toEqual(stuck);
    expect(sender.child.exitCode).toBeNull();

    await rm(join(dir, "filler"));
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(sender.stderr()).not.toMatch(/not stored/);
    await sink.waitFor(/writable again/);
    expectOnePerHost(await wholeLines(out), fleet.targets);
    // The record got every host once too, each line whole.
    const recorded = (await readFile(record, "utf8")).trimEnd().split("\n");
    expectOnePerHost(
      recorded.map((l) => (JSON.parse(l) as { target: string }).target),
      fleet.targets,
    );
    sink.child.kill("SIGTERM");
    expect(await sink.exited, sink.stderr()).toBe(0);
  }, 240_000);

  it("interrupted on a full disk, the sender exits 1 naming the unstored hosts; the file moved elsewhere completes the job", async () => {
    const fleet = await startFleet(300, ["--latency", "40"]);
    const dir = mountTmpfs("256k");
    const out = join(dir, "out.txt");
    const ep = await endpoints();
    const sink = await startSink(out, ep);
    const worker = startWorker("worker1", 6, ep, fleet);
    const sender = startSender(fleet.inventory, ep, [...QUICK_LOSS, "--job", "nightly"]);
    await waitForLines(out, 40, 60_000);
    fillUp(join(dir, "filler"));
    await sink.waitFor(/error: cannot store results: .*ENOSPC/);
    await tick(2000);
    const stored = (await wholeLines(out)).length;
    sender.child.kill("SIGINT");
    expect(await sender.exited).toBe(1);
    expect(sender.stderr()).toMatch(new RegExp(`\\b${300 - stored} hosts not stored by the sink`));
    expect(sender.stderr()).toMatch(new RegExp(`${stored} results .*cancelled`));
    // The sink gives up what it held: it says so and exits 1; the file is whole.
    sink.child.kill("SIGTERM");
    expect(await sink.exited, sink.stderr()).toBe(1);
    expect(sink.stderr()).toMatch(/could not be stored and got no receipt/);
    expect((await wholeLines(out)).length).toBe(stored);
    worker.child.kill("SIGTERM");
    await worker.exited;

    // Restarted elsewhere with the same file and journal, the same job finishes: every host once.
    const elsewhere = join(await tempDir("sink-elsewhere-"), "out.txt");
    await copyFile(out, elsewhere);
    await copyFile(`${out}.journal`, `${elsewhere}.journal`);
    const ep2 = await endpoints();
    const sink2 = await startSink(elsewhere, ep2);
    startWorker("worker2", 20, ep2, fleet);
    // The sender's state file says the job has stored results: the same job again is --resume.
    const again = startSender(fleet.inventory, ep2, ["--job", "nightly", "--resume"]);
    expect(await again.exited, again.stderr()).toBe(0);
    await waitForLines(elsewhere, 300, 60_000);
    expectOnePerHost(await wholeLines(elsewhere), fleet.targets);
    sink2.child.kill("SIGTERM");
    expect(await sink2.exited).toBe(0);
  }, 240_000);
});
