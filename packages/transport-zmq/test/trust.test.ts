import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Task } from "@uptime/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import { Collector, Dispatcher, type RejectInfo, WorkerLink } from "../src/index.js";
import { FileStore, targets, tempDir, waitFor } from "./helpers.js";
import { createNetnsPeer, type NetnsPeer } from "./netns.js";

const ROGUE = fileURLToPath(new URL("./fixtures/rogue-peer.mjs", import.meta.url));

/** Runs the rogue peer inside the namespace; killed when the test ends. */
function startRogue(
  peer: NetnsPeer,
  dispatcher: string,
  sink: string,
): { child: ChildProcess; out: () => string } {
  const child = spawn("ip", ["netns", "exec", peer.ns, process.execPath, ROGUE, dispatcher, sink], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise((r) => child.once("exit", r));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return { child, out: () => out };
}

async function servers(peer: NetnsPeer, trust?: string[]) {
  const store = await FileStore.open(join(tempDir(), "out.ndjson"));
  const common = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 2000, ...(trust ? { trust } : {}) };
  const dispatcher = new Dispatcher({ endpoint: `tcp://${peer.hostAddress}:*`, ...common });
  const collector = new Collector({
    endpoint: `tcp://${peer.hostAddress}:*`,
    store,
    batchMaxMs: 5,
    ...(trust ? { trust } : {}),
  });
  const rejects: RejectInfo[] = [];
  dispatcher.on("reject", (r) => rejects.push(r));
  collector.on("reject", (r) => rejects.push(r));
  await dispatcher.bind();
  await collector.bind();
  onTestFinished(() => dispatcher.close());
  onTestFinished(() => collector.close());
  return { store, dispatcher, collector, rejects };
}

describe("safe by default: an unauthenticated peer from another network", () => {
  it("gets nothing by default: ZAP refuses its handshake on both servers, and start-up says so", async () => {
    const peer = createNetnsPeer();
    const { store, dispatcher, collector, rejects } = await servers(peer);
    expect(dispatcher.exposure.trusted).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(dispatcher.exposure.curve).toBe(false);
    const run = dispatcher.runJob({ id: "j", targets: targets(20) });
    startRogue(peer, dispatcher.endpoint, collector.endpoint);
    await waitFor(
      () => rejects.filter((r) => r.code === "AUTH" && r.peer === peer.peerAddress).length >= 2,
      15_000,
      "both servers to refuse the rogue's handshake",
    );
    expect(rejects.find((r) => r.code === "AUTH")?.message).toMatch(/not in a trusted network/);
    expect(dispatcher.workerList()).toEqual([]);
    expect(dispatcher.metrics().tasksSent).toBe(0);
    expect(run.progress()).toMatchObject({ receipted: 0, queued: 20 });
    expect(collector.metrics().received).toBe(0);
    expect(await store.lines()).toEqual([]);
    dispatcher.cancel("j");
  });

  it("with its network trusted, its forged receipts for tasks it does not hold change nothing", async () => {
    const peer = createNetnsPeer();
    const { store, dispatcher, collector, rejects } = await servers(peer, [peer.network]);
    expect(dispatcher.exposure.trusted).toEqual([peer.network]);
    const n = 30;
    const run = dispatcher.runJob({ id: "j", targets: targets(n) });
    // A real worker (from this side of the veth, so from a trusted address) takes every task and holds it.
    const link = new WorkerLink({
      dispatcher: dispatcher.endpoint,
      sink: collector.endpoint,
      id: "real",
      capacity: n,
      prefetch: 0,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 2000,
    });
    onTestFinished(() => link.destroy());
    await link.start();
    const held: Task[] = [];
    const taking = (async () => {
      for await (const t of link.tasks()) {
        held.push(t);
        if (held.length === n) return;
      }
    })();
    await taking;
    expect(run.progress()).toMatchObject({ inFlight: n, receipted: 0 });

    const rogue = startRogue(peer, dispatcher.endpoint, collector.endpoint);
    await waitFor(() => rogue.out().includes('"forged"'), 15_000, "the rogue to forge receipts");
    await waitFor(
      () => rejects.filter((r) => r.code === "BAD_RECEIPT").length >= 3,
      15_000,
      "the dispatcher to reject the forged receipts",
    );
    expect(rogue.out()).not.toContain('"got":"task"');
    expect(run.progress()).toMatchObject({ inFlight: n, receipted: 0, queued: 0 });
    expect(rejects.some((r) => r.code === "BAD_RECEIPT" && /does not hold/.test(r.message))).toBe(true);
    expect(rejects.some((r) => r.code === "BAD_RECEIPT" && /seq 1099511627776/.test(r.message))).toBe(true);

    // The real worker's results still count. A trusted peer can still send the sink a result
    // (only CURVE stops that), but each seq is stored once and the job completes.
    for (const t of held) {
      await link.sendResult({
        t: "result",
        job: t.job,
        seq: t.seq,
        attempt: t.attempt,
        target: t.target,
        worker: "real",
        slot: 0,
        durationMs: 1,
        at: Date.now(),
        ok: true,
        uptime: { raw: "up 1 day", text: "1 day", seconds: 86_400 },
      });
    }
    const report = await run.done;
    expect(report).toMatchObject({ receipted: n, abandoned: [], cancelled: false });
    const lines = (await store.lines()).filter((r) => r.job === "j");
    expect(lines.map((r) => r.seq).sort((a, b) => a - b)).toEqual(targets(n).map((_, i) => i));
  });
});
