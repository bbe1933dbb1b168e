import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  hostsInOutput,
  runApp,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
  waitForLines,
} from "./harness.js";

/** Heartbeats fast enough that a killed worker is noticed within a couple of seconds. */
const QUICK_LOSS = ["--heartbeat-timeout", "1500ms", "--heartbeat-interval", "300ms"];

/** An output file in a fresh directory, and free endpoints. */
async function freshRun() {
  return { out: join(await tempDir(), "out.txt"), ep: await endpoints() };
}

const LINE = /^worker_id: [\w.-]+_\d+, host: \S+, (result: \S.*|error: [A-Z_]+ .*)$/;

function expectOnePerHost(hosts: string[], targets: string[]) {
  expect(hosts.length).toBe(targets.length);
  expect(new Set(hosts)).toEqual(new Set(targets));
}

describe("the pipeline as separate processes", () => {
  it("runs the original's command lines and prints the original's output format", async () => {
    const fleet = await startFleet(60);
    const { out, ep } = await freshRun();
    const sshEnv = {
      UPTIME_SSH_IDENTITY: fleet.identity,
      UPTIME_SSH_KNOWN_HOSTS: fleet.knownHosts,
      UPTIME_SSH_NO_AGENT: "1",
    };
    // uptime-sink OUTFILE
    const sink = runApp(BIN.sink, [out], { UPTIME_SINK_BIND: ep.results });
    await sink.waitFor(/listening/);
    // uptime-worker WORKER_ID [CONCURRENCY], and the flag form
    runApp(BIN.worker, ["worker1", "10"], { ...sshEnv, UPTIME_SENDER: ep.tasks, UPTIME_SINK: ep.results });
    runApp(
      BIN.worker,
      ["-s", ep.tasks, "-r", ep.results, "-u", "fleet", "-p", "22", "-i", "workerX", "-c", "10"],
      sshEnv,
    );
    // uptime-sender HOSTFILE [WATERMARK]
    const sender = runApp(BIN.sender, [fleet.inventory, "100"], { UPTIME_SENDER_BIND: ep.tasks });
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(sender.stderr()).toMatch(/60 hosts, 60 results/);
    await waitForLines(out, 60);
    const lines = (await import("node:fs/promises"))
      .readFile(out, "utf8")
      .then((t) => t.trimEnd().split("\n"));
    for (const line of await lines) expect(line).toMatch(LINE);
    expect((await lines).some((l) => l.startsWith("worker_id: worker1_"))).toBe(true);
    expect((await lines).some((l) => l.startsWith("worker_id: workerX_"))).toBe(true);
    expect(sink.stdout()).toContain("worker_id: ");
    expectOnePerHost(await hostsInOutput(out), fleet.targets);
    sink.child.kill("SIGTERM");
    expect(await sink.exited).toBe(0);
  }, 60_000);

  it("finishes with exactly one line per host when one of two workers is killed with -9 mid-job", async () => {
    const fleet = await startFleet(300, ["--latency", "20"]);
    const { out, ep } = await freshRun();
    await startSink(out, ep);
    const w1 = startWorker("worker1", 15, ep, fleet);
    startWorker("worker2", 15, ep, fleet);
    const sender = startSender(fleet.inventory, ep, QUICK_LOSS);
    await waitForLines(out, 60);
    w1.child.kill("SIGKILL");
    expect(await sender.exited, sender.stderr()).toBe(0);
    await waitForLines(out, 300);
    expectOnePerHost(await hostsInOutput(out), fleet.targets);
    expect(sender.stderr()).toMatch(/worker worker1 lost/);
  }, 90_000);

  it("loses and repeats nothing when the sink is killed and restarted mid-job", async () => {
    const fleet = await startFleet(300, ["--latency", "20"]);
    const { out, ep } = await freshRun();
    const sink1 = await startSink(out, ep);
    startWorker("worker1", 20, ep, fleet);
    const sender = startSender(fleet.inventory, ep, QUICK_LOSS);
    await waitForLines(out, 60);
    sink1.child.kill("SIGKILL");
    await sink1.exited;
    await new Promise((r) => setTimeout(r, 500));
    const sink2 = runApp(BIN.sink, [out, "--bind", ep.results, "--quiet"]);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await waitForLines(out, 300);
    expectOnePerHost(await hostsInOutput(out), fleet.targets);
    sink2.child.kill("SIGTERM");
    expect(await sink2.exited).toBe(0);
  }, 90_000);

  it("gives work to a worker started after the job began", async () => {
    const fleet = await startFleet(150, ["--latency", "40"]);
    const { out, ep } = await freshRun();
    await startSink(out, ep);
    startWorker("early", 4, ep, fleet);
    const sender = startSender(fleet.inventory, ep);
    await waitForLines(out, 10);
    startWorker("late", 20, ep, fleet);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await waitForLines(out, 150);
    const text = await (await import("node:fs/promises")).readFile(out, "utf8");
    expect(text).toMatch(/^worker_id: late_\d+, /m);
    expectOnePerHost(await hostsInOutput(out), fleet.targets);
  }, 90_000);

  it("a worker notes a sender that left after its job without a warning, and warns when one dies with tasks in hand", async () => {
    // 500 ms per write: a probe takes seconds, so the second sender dies while every task is in hand.
    const fleet = await startFleet(20, ["--latency", "500"]);
    const { out, ep } = await freshRun();
    await startSink(out, ep);
    const worker = startWorker("w", 20, ep, fleet);
    const done = startSender(fleet.inventory, ep);
    expect(await done.exited, done.stderr()).toBe(0);
    await worker.waitFor(/the sender at \S+ went away \(.*\); waiting for the next one/, 15_000);
    expect(worker.stderr()).not.toMatch(/warning/);

    const dies = startSender(fleet.inventory, ep);
    await dies.waitFor(/worker w joined/, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    dies.child.kill("SIGKILL");
    await worker.waitFor(/warning: lost the sender at \S+ \(.*\) with \d+ tasks in hand/, 15_000);
  }, 90_000);
});
