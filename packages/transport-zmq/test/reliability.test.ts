import { describe, expect, it } from "vitest";
import { Collector, Dispatcher, type WorkerInfo } from "../src/index.js";
import {
  FileStore,
  pipeline,
  rebind,
  runWorker,
  serveWorker,
  targets,
  waitFor,
  workerLink,
} from "./helpers.js";

describe("distribution", () => {
  it("a worker with a fifth of the capacity gets about a fifth of the work, not half", async () => {
    const p = await pipeline();
    const rf = await serveWorker(p, "fast", 8, { delayMs: 5 });
    const rs = await serveWorker(p, "slow", 2, { delayMs: 5 });
    const report = await p.dispatcher.runJob({ id: "fair", targets: targets(400) }).done;
    expect(report.receipted).toBe(400);
    const share = rs.ran.length / (rs.ran.length + rf.ran.length);
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.35);
  });

  it("a worker ten times slower gets far less work than a fast one of the same capacity", async () => {
    const p = await pipeline();
    const rf = await serveWorker(p, "fast", 4, { delayMs: 2 });
    const rs = await serveWorker(p, "slow", 4, { delayMs: 25 });
    const report = await p.dispatcher.runJob({ id: "speed", targets: targets(400) }).done;
    expect(report.receipted).toBe(400);
    expect(rs.ran.length / 400).toBeLessThan(0.3);
    expect(rf.ran.length).toBeGreaterThan(rs.ran.length * 2);
  });
});

describe("failures", () => {
  it("a worker that vanishes mid-job has its unreceipted tasks requeued and done elsewhere", async () => {
    const p = await pipeline();
    const lost: (WorkerInfo & { reason: string; requeued: number })[] = [];
    p.dispatcher.on("worker-lost", (w) => lost.push(w));
    const ra = await serveWorker(p, "a", 10, { delayMs: 10 });
    await serveWorker(p, "b", 10, { delayMs: 10 });
    const run = p.dispatcher.runJob({ id: "vanish", targets: targets(400) });
    await waitFor(() => ra.ran.length >= 60, 10_000, "worker a to run 60 tasks");
    await ra.link.destroy(); // sockets closed, no bye
    const report = await run.done;
    expect(report).toMatchObject({ total: 400, receipted: 400, cancelled: false, abandoned: [] });
    expect(lost).toHaveLength(1);
    expect(lost[0]!.worker).toBe("a");
    // "unreachable" when a send to it failed first (ROUTER mandatory), else "timeout"
    expect(["timeout", "unreachable"]).toContain(lost[0]!.reason);
    expect(lost[0]!.requeued).toBeGreaterThan(0);
    expect(run.progress().requeued).toBe(lost[0]!.requeued);
    const lines = await p.store.lines();
    expect(lines).toHaveLength(400);
    expect(new Set(lines.map((r) => r.seq)).size).toBe(400);
    // the requeued tasks went out again with their attempt raised
    expect(lines.some((r) => r.attempt === 2 && r.worker === "b")).toBe(true);
  });

  it("a task lost more than maxAttempts times is abandoned and reported, not retried forever", async () => {
    const p = await pipeline({ dispatcher: { maxAttempts: 2 } });
    const run = p.dispatcher.runJob({ id: "doomed", targets: targets(3) });
    for (const id of ["x1", "x2"]) {
      const link = workerLink(p, id, 5);
      await link.start();
      const tasks = link.tasks()[Symbol.asyncIterator]();
      for (let i = 0; i < 3; i++) await tasks.next(); // takes every task, never answers
      await link.destroy();
    }
    const report = await run.done;
    expect(report.receipted).toBe(0);
    expect(report.abandoned.map((a) => a.seq).sort()).toEqual([0, 1, 2]);
    expect(report.abandoned[0]!.target).toMatch(/^host\d$/);
    expect(p.dispatcher.metrics().abandoned).toBe(3);
  });

  it("a bye requeues at once, without waiting for the heartbeat timeout", async () => {
    const p = await pipeline({ dispatcher: { heartbeatTimeoutMs: 60_000 } });
    const lost: string[] = [];
    p.dispatcher.on("worker-lost", (w) => lost.push(w.reason));
    const run = p.dispatcher.runJob({ id: "bye", targets: targets(5) });
    const a = workerLink(p, "a", 5, { drainMs: 0 });
    await a.start();
    const it = a.tasks()[Symbol.asyncIterator]();
    await it.next();
    await a.close();
    await waitFor(() => lost.length > 0, 3000, "worker-lost");
    expect(lost).toEqual(["bye"]);
    expect(run.progress()).toMatchObject({ inFlight: 0, queued: 5 });
    await serveWorker(p, "b", 5, { delayMs: 1 });
    expect((await run.done).receipted).toBe(5);
  });

  it("a worker that closes gracefully waits for its receipts, so nothing it finished is run again", async () => {
    const p = await pipeline({ dispatcher: { heartbeatTimeoutMs: 60_000 } });
    const lost: number[] = [];
    p.dispatcher.on("worker-lost", (w) => lost.push(w.requeued));
    const run = p.dispatcher.runJob({ id: "graceful", targets: targets(40) });
    const a = workerLink(p, "a", 4, { prefetch: 0 });
    await a.start();
    const it = a.tasks()[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) {
      const t = (await it.next()).value!;
      await a.sendResult({
        t: "result",
        job: t.job,
        seq: t.seq,
        attempt: t.attempt,
        target: t.target,
        worker: "a",
        slot: i,
        durationMs: 0,
        at: Date.now(),
        ok: true,
        uptime: { raw: "up", text: "up", seconds: 1 },
      });
    }
    await a.close();
    await waitFor(() => lost.length === 1, 3000, "bye");
    // what it held beyond the four answered tasks (credit granted back meanwhile) went back at once
    expect(run.progress().receipted).toBe(4);
    const b = workerLink(p, "b", 8);
    await b.start();
    runWorker(b, { id: "b", capacity: 8, delayMs: 1 });
    expect((await run.done).receipted).toBe(40);
    expect(p.collector.metrics().duplicates).toBe(0);
    expect(p.collector.metrics().stored).toBe(40);
  });

  it("the collector restarted mid-job loses no result and duplicates none", async () => {
    const p = await pipeline();
    const endpoint = p.collector.endpoint.replace("0.0.0.0", "127.0.0.1");
    const a = workerLink(p, "a", 10, { resendAfterMs: 1000 });
    const b = workerLink(p, "b", 10, { resendAfterMs: 1000 });
    await a.start();
    await b.start();
    runWorker(a, { id: "a", capacity: 10, delayMs: 5 });
    runWorker(b, { id: "b", capacity: 10, delayMs: 5 });
    const run = p.dispatcher.runJob({ id: "restart", targets: targets(600) });
    await waitFor(() => p.store.count >= 150, 10_000, "150 stored results");
    // The disk goes away: what is being written now is never durable and never receipted.
    p.store.failWrites = true;
    await new Promise((r) => setTimeout(r, 30));
    await p.collector.close();
    await new Promise((r) => setTimeout(r, 200));
    const store2 = await FileStore.open(p.store.path);
    const collector2 = new Collector({ endpoint, store: store2, batchMaxMs: 5 });
    const ends: number[] = [];
    collector2.on("job-end", (m) => ends.push(m.done));
    await rebind(collector2);
    try {
      const report = await run.done;
      await waitFor(() => ends.length === 1, 3000, "job-end at the restarted sink");
      expect(ends).toEqual([600]);
      expect(report).toMatchObject({ receipted: 600, abandoned: [] });
      const lines = await store2.lines();
      expect(lines).toHaveLength(600);
      expect(new Set(lines.map((r) => r.seq)).size).toBe(600);
    } finally {
      await collector2.close();
    }
  });

  it("a restarted sink hears of the running job again", async () => {
    const p = await pipeline();
    const endpoint = p.collector.endpoint.replace("0.0.0.0", "127.0.0.1");
    const a = workerLink(p, "a", 1, { prefetch: 0 });
    await a.start();
    runWorker(a, { id: "a", capacity: 1, delayMs: 100 });
    const first: number[] = [];
    p.collector.on("job-start", (m) => first.push(m.total));
    const run = p.dispatcher.runJob({ id: "announce", targets: targets(40) });
    await waitFor(() => first.length === 1, 3000, "job-start");
    await p.collector.close();
    const collector2 = new Collector({ endpoint, store: await FileStore.open(p.store.path) });
    const again: number[] = [];
    collector2.on("job-start", (m) => again.push(m.total));
    await rebind(collector2);
    try {
      await waitFor(() => again.length === 1, 3000, "job-start announced again");
      expect(again).toEqual([40]);
    } finally {
      p.dispatcher.cancel(run.id);
      await collector2.close();
    }
  });

  it("a worker reconnects to a restarted dispatcher and serves its next job", async () => {
    const p = await pipeline();
    const endpoint = p.dispatcher.endpoint.replace("0.0.0.0", "127.0.0.1");
    const a = workerLink(p, "a", 4);
    let connected = 0;
    let disconnected = 0;
    a.on("connected", () => connected++);
    a.on("disconnected", () => disconnected++);
    await a.start();
    runWorker(a, { id: "a", capacity: 4, delayMs: 1 });
    expect((await p.dispatcher.runJob({ id: "before", targets: targets(20) }).done).receipted).toBe(20);
    await p.dispatcher.close();
    const d2 = new Dispatcher({ endpoint, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
    await rebind(d2);
    try {
      await waitFor(() => d2.metrics().workers === 1, 5000, "worker to rejoin");
      expect((await d2.runJob({ id: "after", targets: targets(20) }).done).receipted).toBe(20);
      expect(disconnected).toBeGreaterThanOrEqual(1);
      expect(connected).toBeGreaterThanOrEqual(2);
    } finally {
      await d2.close();
    }
  });

  it("with the sink away a worker holds at most its window and no credit flows; work resumes when it binds", async () => {
    const p = await pipeline();
    const endpoint = p.collector.endpoint.replace("0.0.0.0", "127.0.0.1");
    await p.collector.close();
    const a = workerLink(p, "a", 4, { prefetch: 1 });
    await a.start();
    const ra = runWorker(a, { id: "a", capacity: 4, delayMs: 1 });
    const run = p.dispatcher.runJob({ id: "away", targets: targets(2000) });
    await new Promise((r) => setTimeout(r, 500));
    // A window of 5, plus at most the sink socket's high-water mark (16) of results before sends block.
    const sentBefore = ra.ran.length;
    expect(a.metrics().held).toBeLessThanOrEqual(5);
    expect(p.dispatcher.metrics().inFlight).toBeLessThanOrEqual(5 + 16 + 5);
    expect(sentBefore).toBeLessThan(5 + 16 + 5);
    await new Promise((r) => setTimeout(r, 300));
    expect(ra.ran.length).toBe(sentBefore); // stuck, not growing
    const store2 = await FileStore.open(p.store.path);
    const collector2 = new Collector({ endpoint, store: store2, batchMaxMs: 5 });
    await rebind(collector2);
    try {
      expect((await run.done).receipted).toBe(2000);
      expect(store2.count).toBe(2000);
    } finally {
      await collector2.close();
    }
  });
});

describe("cancel", () => {
  it("a stopped job's tasks can be released, and the worker's full window serves the next job", async () => {
    const p = await pipeline();
    const a = workerLink(p, "a", 2, { prefetch: 0 });
    const stops: string[] = [];
    a.on("stop", (s) => stops.push(s.job ?? "*"));
    await a.start();
    const run = p.dispatcher.runJob({ id: "c1", targets: targets(10) });
    const it = a.tasks()[Symbol.asyncIterator]();
    const t1 = (await it.next()).value!;
    const t2 = (await it.next()).value!;
    expect(a.metrics().held).toBe(2);
    p.dispatcher.cancel("c1", "operator");
    expect((await run.done).cancelled).toBe(true);
    await waitFor(() => stops.length === 1, 3000, "stop event");
    expect(stops).toEqual(["c1"]);
    a.release(t1);
    a.release(t2);
    expect(a.metrics().held).toBe(0);
    const ran: number[] = [];
    const run2 = p.dispatcher.runJob({ id: "c2", targets: targets(6) });
    for (let i = 0; i < 6; i++) {
      const t = (await it.next()).value!;
      ran.push(t.seq);
      await a.sendResult({
        t: "result",
        job: t.job,
        seq: t.seq,
        attempt: t.attempt,
        target: t.target,
        worker: "a",
        slot: 0,
        durationMs: 0,
        at: Date.now(),
        ok: false,
        error: { code: "REFUSED", message: "refused" },
      });
    }
    expect((await run2.done).failed).toBe(6);
    expect(ran.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
