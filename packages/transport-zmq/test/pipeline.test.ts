import { describe, expect, it } from "vitest";
import { pipeline, runWorker, serveWorker, targets, workerLink } from "./helpers.js";

describe.each(["tcp", "ipc"] as const)("a job over %s", (transport) => {
  it("every target gets exactly one stored result and the job completes", async () => {
    const p = await pipeline({ transport });
    const starts: string[] = [];
    const ends: number[] = [];
    p.collector.on("job-start", (m) => starts.push(m.job));
    p.collector.on("job-end", (m) => ends.push(m.done));
    const ra = await serveWorker(p, "wa", 20, { delayMs: 1, fail: (t) => t.seq % 10 === 0 });
    const rb = await serveWorker(p, "wb", 20, { delayMs: 1, fail: (t) => t.seq % 10 === 0 });
    const run = p.dispatcher.runJob({ id: "j1", targets: targets(500) });
    const report = await run.done;
    expect(report).toMatchObject({ id: "j1", total: 500, receipted: 500, failed: 50, cancelled: false });
    expect(report.abandoned).toEqual([]);
    const lines = await p.store.lines();
    expect(lines).toHaveLength(500);
    expect(new Set(lines.map((r) => r.seq)).size).toBe(500);
    expect(ra.ran.length + rb.ran.length).toBe(500);
    expect(ra.ran.length).toBeGreaterThan(0);
    expect(rb.ran.length).toBeGreaterThan(0);
    expect(run.progress()).toMatchObject({ receipted: 500, inFlight: 0, queued: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(starts).toEqual(["j1"]);
    expect(ends).toEqual([500]);
    expect(p.dispatcher.metrics()).toMatchObject({ workers: 2, inFlight: 0, queued: 0 });
    expect(p.collector.metrics()).toMatchObject({ stored: 500, rejects: { total: 0 } });
  });

  it("an empty job completes at once, and a cancelled one resolves as cancelled", async () => {
    const p = await pipeline({ transport });
    expect(await p.dispatcher.runJob({ id: "empty", targets: [] }).done).toMatchObject({
      total: 0,
      cancelled: false,
    });
    const a = workerLink(p, "wa", 2);
    const stops: (string | undefined)[] = [];
    a.on("stop", (s) => stops.push(s.job));
    await a.start();
    runWorker(a, { id: "wa", capacity: 2, delayMs: 50 });
    const run = p.dispatcher.runJob({ id: "long", targets: targets(1000) });
    await new Promise((r) => setTimeout(r, 200));
    p.dispatcher.cancel("long", "operator");
    const report = await run.done;
    expect(report.cancelled).toBe(true);
    expect(report.reason).toBe("operator");
    expect(report.receipted).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(stops).toEqual(["long"]);
    expect(p.dispatcher.metrics().activeJobs).toBe(0);
  });
});
