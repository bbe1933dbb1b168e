import { describe, expect, it, onTestFinished } from "vitest";
import { Dispatcher, type WorkerLink } from "../src/index.js";
import { pipeline, targets, workerLink } from "./helpers.js";

/**
 * Runs tasks on `link` for `delayMs` each, calling `sample()` whenever a task arrives
 * (right after the dispatcher sent it, the moment its in-flight count peaks).
 */
function serve(link: WorkerLink, id: string, delayMs: number, sample: () => void): { ran: number } {
  const counts = { ran: 0 };
  void (async () => {
    let slot = 0;
    for await (const task of link.tasks()) {
      sample();
      counts.ran++;
      const s = slot++ % 1000;
      void (async () => {
        await new Promise((r) => setTimeout(r, delayMs));
        await link
          .sendResult({
            t: "result",
            job: task.job,
            seq: task.seq,
            attempt: task.attempt,
            target: task.target,
            worker: id,
            slot: s,
            durationMs: delayMs,
            at: Date.now(),
            ok: true,
            uptime: { raw: "up 1 day", text: "1 day", seconds: 86_400 },
          })
          .catch(() => {});
      })();
    }
  })();
  return counts;
}

/** A job of `n` tasks over two workers of capacity 10; returns the most in flight seen and the report. */
async function runWithWatermark(maxInFlight: number | undefined, n: number) {
  const p = await pipeline({ dispatcher: maxInFlight === undefined ? {} : { maxInFlight } });
  const a = workerLink(p, "wa", 10);
  const b = workerLink(p, "wb", 10);
  let maxDispatcher = 0;
  let maxHeld = 0;
  const sample = () => {
    maxDispatcher = Math.max(maxDispatcher, p.dispatcher.metrics().inFlight);
    maxHeld = Math.max(maxHeld, a.metrics().held + b.metrics().held);
  };
  const sampler = setInterval(sample, 1);
  onTestFinished(() => clearInterval(sampler));
  await a.start();
  await b.start();
  const ra = serve(a, "wa", 5, sample);
  const rb = serve(b, "wb", 5, sample);
  // Both workers are known before the job starts, so both get a share of the window.
  const end = Date.now() + 5000;
  while (p.dispatcher.metrics().workers < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  const report = await p.dispatcher.runJob({ id: "wm", targets: targets(n) }).done;
  clearInterval(sampler);
  const lines = await p.store.lines();
  return { report, maxDispatcher, maxHeld, ran: [ra.ran, rb.ran], stored: lines.length };
}

describe("maxInFlight (the sender's watermark)", () => {
  it("keeps at most maxInFlight tasks out over all workers, and the job still completes", async () => {
    const r = await runWithWatermark(5, 200);
    expect(r.report).toMatchObject({ total: 200, receipted: 200, cancelled: false, abandoned: [] });
    expect(r.stored).toBe(200);
    expect(r.maxDispatcher).toBeLessThanOrEqual(5);
    expect(r.maxHeld).toBeLessThanOrEqual(5);
    // The window is used, not starved: it fills up to the watermark, and both workers get work.
    expect(r.maxDispatcher).toBe(5);
    expect(r.ran[0]).toBeGreaterThan(0);
    expect(r.ran[1]).toBeGreaterThan(0);
  });

  it("without it, only the workers' credit bounds what is out (the observation can fail)", async () => {
    const r = await runWithWatermark(undefined, 200);
    expect(r.report.receipted).toBe(200);
    expect(r.maxDispatcher).toBeGreaterThan(5);
  });

  it("rejects a watermark that is not a positive integer, naming the option", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "5"]) {
      expect(() => new Dispatcher({ maxInFlight: bad as number })).toThrow(TypeError);
      expect(() => new Dispatcher({ maxInFlight: bad as number })).toThrow(
        /Expected `maxInFlight` to be an integer/,
      );
    }
  });
});
