import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  endpoints,
  hostsInOutput,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
} from "./harness.js";

describe("a worker serves job after job", () => {
  it("a cancelled job id run again, then a new job: neither stalls (the worker's credit comes back)", async () => {
    const fleet = await startFleet(40, ["--latency", "30"]);
    const ep = await endpoints();
    const dir = await tempDir();
    const out = join(dir, "out.txt");
    await startSink(out, ep);
    startWorker("w1", 2, ep, fleet);
    // Ctrl-C mid-job: the sender cancels, the worker is told to stop the job.
    const first = startSender(fleet.inventory, ep, ["--job", "nightly", "--progress", "off"]);
    await first.waitFor(/worker w1 joined/);
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(1);
    expect(first.stderr()).toMatch(/cancelled/);
    // The same id again (with --resume: a stored job's id is not reused without it). It must
    // finish, and so must a job with a new id: the worker's credit came back.
    const again = startSender(fleet.inventory, ep, ["--job", "nightly", "--resume", "--progress", "off"]);
    await again.waitFor(/job nightly: 40 hosts, 40 results/, 60_000);
    expect(await again.exited).toBe(0);
    const next = startSender(fleet.inventory, ep, ["--job", "next", "--progress", "off"]);
    await next.waitFor(/job next: 40 hosts, 40 results/, 60_000);
    expect(await next.exited).toBe(0);
    const hosts = await hostsInOutput(out);
    expect(hosts.length).toBeGreaterThanOrEqual(80);
  }, 150_000);
});
