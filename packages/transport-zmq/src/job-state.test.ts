import { describe, expect, it } from "vitest";
import { ABANDONED, JobState, QUEUED, RECEIPTED } from "./job-state.js";

const w1 = { name: "w1" };
const w2 = { name: "w2" };
const w = { name: "w" };

describe("JobState", () => {
  it("hands out seqs in order, requeued ones first, with the attempt raised", () => {
    const job = new JobState<{ name: string }>("j", ["a", "b", "c"], undefined);
    expect(job.next()).toBe(0);
    job.markInFlight(0, w1);
    expect(job.next()).toBe(1);
    job.markInFlight(1, w1);
    expect(job.requeueTask(0, 3)).toBe("requeued");
    expect(job.attemptOf(0)).toBe(2);
    expect(job.next()).toBe(0);
    job.markInFlight(0, w2);
    expect(job.next()).toBe(2);
    expect(job.next()).toBe(-1);
    expect(job.progress()).toMatchObject({ total: 3, inFlight: 2, queued: 1, requeued: 1 });
  });

  it("abandons a task at maxAttempts and completes with receipts and abandons", () => {
    const job = new JobState<{ name: string }>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), w);
    job.markInFlight(job.next(), w);
    expect(job.requeueTask(0, 1)).toBe("abandoned");
    expect(job.stateOf(0)).toBe(ABANDONED);
    expect(job.receipt(1, w)).toEqual({ kind: "receipted", holder: w });
    expect(job.complete).toBe(true);
    expect(job.finish(false)).toMatchObject({ receipted: 1, abandoned: [{ seq: 0, target: "a" }] });
  });

  it("a late receipt for an abandoned task counts it as receipted", () => {
    const job = new JobState<{ name: string }>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), w);
    job.requeueTask(0, 1);
    expect(job.receipt(0, w)).toEqual({ kind: "receipted", holder: w });
    expect(job.receipt(0, w)).toEqual({ kind: "duplicate" });
    expect(job.progress()).toMatchObject({ receipted: 1, abandoned: 0, queued: 1 });
  });

  it("counts a receipt once, also for a task already requeued, and skips it in the queue", () => {
    const job = new JobState<{ name: string }>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), w);
    job.requeueTask(0, 3);
    expect(job.stateOf(0)).toBe(QUEUED);
    expect(job.receipt(0, w)).toEqual({ kind: "receipted", holder: w });
    expect(job.receipt(0, w)).toEqual({ kind: "duplicate" });
    expect(job.stateOf(0)).toBe(RECEIPTED);
    expect(job.next()).toBe(1); // 0 is receipted: not handed out again
    expect(job.requeueTask(0, 3)).toBe("ignored");
    expect(job.receipted).toBe(1);
  });

  it("counts a receipt only from the task's holder, and never for a seq out of range", () => {
    const job = new JobState<{ name: string }>("j", ["a", "b", "c"], undefined);
    job.markInFlight(job.next(), w1);
    job.markInFlight(job.next(), w2);
    const rogue = { name: "rogue" };
    expect(job.receipt(0, rogue)).toEqual({ kind: "not-held" });
    expect(job.receipt(1, w1)).toEqual({ kind: "not-held" });
    expect(job.receipt(2, w1)).toEqual({ kind: "not-held" }); // never sent
    expect(job.receipt(3, w1)).toEqual({ kind: "out-of-range" });
    expect(job.receipt(2 ** 53, w1)).toEqual({ kind: "out-of-range" });
    expect(job.receipted).toBe(0);
    // The same worker on a new connection still counts for a task it held before the requeue.
    job.requeueTask(0, 3, false);
    expect(job.attemptOf(0)).toBe(1);
    expect(job.receipt(0, { name: "w1" })).toEqual({ kind: "receipted", holder: w1 });
    expect(job.progress()).toMatchObject({ receipted: 1, inFlight: 1 });
  });
});

it("markStored: tasks stored by an earlier run of the job count as receipted and are never handed out", () => {
  const job = new JobState<{ name: string }>("j", ["a", "b", "c", "d"], undefined);
  job.markStored([0, 2, 2, 9, -1], 1);
  expect(job.receipted).toBe(2);
  expect(job.failed).toBe(1);
  const sent: number[] = [];
  for (let seq = job.next(); seq >= 0; seq = job.next()) {
    sent.push(seq);
    job.markInFlight(seq, w);
  }
  expect(sent).toEqual([1, 3]);
  expect(job.receipt(1, w).kind).toBe("receipted");
  expect(job.receipt(3, w).kind).toBe("receipted");
  expect(job.complete).toBe(true);
});
