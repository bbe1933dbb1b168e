import { describe, expect, it } from "vitest";
import { ABANDONED, JobState, QUEUED, RECEIPTED } from "./job-state.js";

describe("JobState", () => {
  it("hands out seqs in order, requeued ones first, with the attempt raised", () => {
    const job = new JobState<string>("j", ["a", "b", "c"], undefined);
    expect(job.next()).toBe(0);
    job.markInFlight(0, "w1");
    expect(job.next()).toBe(1);
    job.markInFlight(1, "w1");
    expect(job.requeueTask(0, 3)).toBe("requeued");
    expect(job.attempts[0]).toBe(2);
    expect(job.next()).toBe(0);
    job.markInFlight(0, "w2");
    expect(job.next()).toBe(2);
    expect(job.next()).toBe(-1);
    expect(job.progress()).toMatchObject({ total: 3, inFlight: 2, queued: 1, requeued: 1 });
  });

  it("abandons a task at maxAttempts and completes with receipts and abandons", () => {
    const job = new JobState<string>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), "w");
    job.markInFlight(job.next(), "w");
    expect(job.requeueTask(0, 1)).toBe("abandoned");
    expect(job.state[0]).toBe(ABANDONED);
    expect(job.markReceipted(1)).toEqual({ owner: "w" });
    expect(job.complete).toBe(true);
    expect(job.report(false)).toMatchObject({ receipted: 1, abandoned: [{ seq: 0, target: "a" }] });
  });

  it("a late receipt for an abandoned task counts it as receipted", () => {
    const job = new JobState<string>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), "w");
    job.requeueTask(0, 1);
    expect(job.markReceipted(0)).toEqual({ owner: undefined });
    expect(job.markReceipted(0)).toBe(false);
    expect(job.progress()).toMatchObject({ receipted: 1, abandoned: 0, queued: 1 });
  });

  it("counts a receipt once, also for a task already requeued, and skips it in the queue", () => {
    const job = new JobState<string>("j", ["a", "b"], undefined);
    job.markInFlight(job.next(), "w");
    job.requeueTask(0, 3);
    expect(job.state[0]).toBe(QUEUED);
    expect(job.markReceipted(0)).toEqual({ owner: undefined });
    expect(job.markReceipted(0)).toBe(false);
    expect(job.state[0]).toBe(RECEIPTED);
    expect(job.next()).toBe(1); // 0 is receipted: not handed out again
    expect(job.requeueTask(0, 3)).toBe("ignored");
    expect(job.receipted).toBe(1);
  });
});

it("markStored: tasks stored by an earlier run of the job count as receipted and are never handed out", () => {
  const job = new JobState<string>("j", ["a", "b", "c", "d"], undefined);
  job.markStored([0, 2, 2, 9, -1], 1);
  expect(job.receipted).toBe(2);
  expect(job.failed).toBe(1);
  const sent: number[] = [];
  for (let seq = job.next(); seq >= 0; seq = job.next()) {
    sent.push(seq);
    job.markInFlight(seq, "w");
  }
  expect(sent).toEqual([1, 3]);
  job.markReceipted(1);
  job.markReceipted(3);
  expect(job.complete).toBe(true);
});
