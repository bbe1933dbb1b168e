import type { Task } from "@uptime/protocol";
import { describe, expect, it } from "vitest";
import { type ResultBody, Slots, serveTasks } from "../src/index.js";
import { pipeline, targets, waitFor, workerLink } from "./helpers.js";

function ok(task: Task, slot: number): ResultBody {
  return {
    t: "result",
    job: task.job,
    seq: task.seq,
    attempt: task.attempt,
    target: task.target,
    worker: "w",
    slot,
    durationMs: 1,
    at: Date.now(),
    ok: true,
    uptime: { raw: "up 1 day", text: "1 day", seconds: 86_400 },
  };
}

describe("Slots", () => {
  it("hands out numbered slots, queues waiters, and idle() resolves when all are free", async () => {
    const slots = new Slots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    expect(new Set([a, b])).toEqual(new Set([0, 1]));
    const c = slots.acquire();
    let idle = false;
    void slots.idle().then(() => (idle = true));
    slots.release(a);
    expect(await c).toBe(a);
    slots.release(b);
    await Promise.resolve();
    expect(idle).toBe(false);
    slots.release(a);
    await slots.idle();
    expect(slots.busy).toBe(0);
  });
});

describe("serveTasks", () => {
  it("gives every task's credit back: results sent, handlers that throw, and tasks skipped", async () => {
    const p = await pipeline();
    const link = workerLink(p, "w", 4, { prefetch: 0 });
    await link.start();
    const errors: number[] = [];
    const ac = new AbortController();
    const serving = serveTasks(
      link,
      async (task, { slot }) => {
        if (task.seq % 3 === 1) throw new Error("probe blew up");
        if (task.seq % 3 === 2) return undefined; // skipped
        return ok(task, slot);
      },
      { concurrency: 4, signal: ac.signal, onError: (t) => errors.push(t.seq) },
    );
    const run = p.dispatcher.runJob({ id: "mixed", targets: targets(30) });
    // 10 results come back, 20 tasks give their credit back without one: the worker keeps taking
    // tasks until the dispatcher has sent all 30 (credit 4 would jam after 4 lost slots).
    await waitFor(() => p.dispatcher.metrics().tasksSent === 30, 10_000, "all 30 tasks to be sent");
    await waitFor(() => run.progress().receipted === 10, 10_000, "the 10 results to be receipted");
    expect(errors.sort((a, b) => a - b)).toEqual(
      targets(30)
        .map((_, i) => i)
        .filter((i) => i % 3 === 1),
    );
    await waitFor(() => link.metrics().held === 0, 5000, "no task held");
    // And a next job gets the whole window.
    const next = p.dispatcher.runJob({ id: "next", targets: targets(3) });
    await waitFor(() => next.progress().inFlight + next.progress().receipted === 3, 5000, "next job's tasks");
    ac.abort();
    await serving;
    p.dispatcher.cancel("mixed");
  });

  it("a job stopped by the dispatcher: running tasks see their signal abort, and the same job id runs again", async () => {
    const p = await pipeline();
    const link = workerLink(p, "w", 2, { prefetch: 1 });
    await link.start();
    let aborted = 0;
    const ac = new AbortController();
    const gate = { open: false };
    const serving = serveTasks(
      link,
      async (task, { slot, signal }) => {
        while (!gate.open && !signal.aborted) await new Promise((r) => setTimeout(r, 5));
        if (signal.aborted) {
          aborted++;
          return undefined;
        }
        return ok(task, slot);
      },
      { concurrency: 2, signal: ac.signal },
    );
    const first = p.dispatcher.runJob({ id: "nightly", targets: targets(10) });
    await waitFor(() => link.metrics().held === 3, 5000, "the window to fill");
    p.dispatcher.cancel("nightly");
    expect((await first.done).cancelled).toBe(true);
    await waitFor(() => aborted === 2 && link.metrics().held === 0, 5000, "the stop to free every slot");
    gate.open = true;
    const again = await p.dispatcher.runJob({ id: "nightly", targets: targets(10) }).done;
    expect(again).toMatchObject({ receipted: 10, cancelled: false });
    ac.abort();
    await serving;
  });

  it("drains on abort: running tasks finish, the unstarted one is handed back, no slot is left taken", async () => {
    const p = await pipeline();
    const link = workerLink(p, "w", 2, { prefetch: 2 });
    await link.start();
    const ac = new AbortController();
    let started = 0;
    let finished = 0;
    let release: () => void = () => {};
    const hold = new Promise<void>((r) => (release = r));
    const serving = serveTasks(
      link,
      async (task, { slot }) => {
        started++;
        await hold;
        finished++;
        return ok(task, slot);
      },
      { concurrency: 2, signal: ac.signal },
    );
    p.dispatcher.runJob({ id: "j", targets: targets(10) });
    await waitFor(() => started === 2 && link.metrics().held === 4, 5000, "2 running, 2 waiting");
    ac.abort();
    let done = false;
    void serving.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false); // waits for the running ones
    release();
    await serving;
    expect({ started, finished }).toEqual({ started: 2, finished: 2 });
    // The two results were handed over and the one taken but not started was given back: every task
    // the link still holds is unread in its inbox (close() hands those back with its bye).
    await waitFor(() => link.metrics().held === link.metrics().queued, 5000, "only unread tasks held");
    expect(link.metrics().resultsSent).toBe(2);
  });
});
