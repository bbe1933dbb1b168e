import { randomBytes } from "node:crypto";
import { encode, LIMITS, type MessageBody } from "@uptime/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import * as zmq from "zeromq";
import { Dispatcher } from "../src/index.js";
import { CUT_OFF_AFTER } from "../src/server-router.js";
import {
  connectable,
  pipeline,
  rebind,
  runWorker,
  serveWorker,
  targets,
  tcpBind,
  waitFor,
  workerLink,
} from "./helpers.js";

const valid: MessageBody[] = [
  { t: "task", job: "j", seq: 1, attempt: 1, target: "h" },
  { t: "ready", worker: "w", capacity: 1, credit: 1 },
  { t: "credit", worker: "w", credit: 5 },
  { t: "heartbeat", from: "w" },
  { t: "receipt", job: "fuzzed", seqs: [0, 1, 2], failed: 1 },
  {
    t: "result",
    job: "fuzzed",
    seq: 3,
    attempt: 1,
    target: "h",
    worker: "w",
    slot: 0,
    durationMs: 1,
    at: 0,
    ok: false,
    error: { code: "DNS", message: "x" },
  },
  { t: "job-end", job: "j", total: 1, done: 1, failed: 0, cancelled: false, at: 0 },
  { t: "stop", job: "j1", reason: "fuzz" },
];

/**
 * Random junk: random bytes, truncated valid frames, valid JSON with broken fields,
 * empty and oversized frames, several frames at once. `safe` leaves out whole valid
 * messages (a valid `ready` would legitimately make the fuzzer a worker).
 */
function junk(i: number): Buffer[] {
  const frame = encode(valid[i % valid.length]!);
  switch (i % 7) {
    case 0:
      return [randomBytes(1 + (i % 300))];
    case 1:
      return [frame.subarray(0, i % frame.length)];
    case 2:
      return [Buffer.from(frame.toString().replace(/"v":1/, '"v":2'))];
    case 3:
      return [Buffer.from(frame.toString().replace(/:(\d+)/, ':"$1"'))];
    case 4:
      return [Buffer.alloc(0)];
    case 5:
      return [randomBytes(8), randomBytes(1 + (i % 50))];
    default:
      return [Buffer.from(JSON.stringify({ v: 1, t: "launch", n: i }))];
  }
}

/** Sends `count` junk messages through `socket`, one send at a time (bounded by time). */
async function spray(socket: zmq.Dealer | zmq.Router, count: number, prefix: Buffer[] = []) {
  const end = Date.now() + 10_000;
  for (let i = 0; i < count && Date.now() < end; i++) await socket.send([...prefix, ...junk(i)]);
}

describe("fuzz", () => {
  it("thousands of bad frames into the dispatcher and the collector: counted, the peer cut off, and a real job still finishes", async () => {
    const p = await pipeline();
    const attackers = [p.dispatcher.endpoint, p.collector.endpoint].map((ep) => {
      const d = new zmq.Dealer({ linger: 0, sendHighWaterMark: 100_000 });
      d.connect(connectable(ep));
      onTestFinished(() => d.close());
      return d;
    });
    // Valid messages of the wrong kind, or from a peer that never said ready: refused, not malformed.
    for (const m of valid.filter((m) => m.t !== "ready")) {
      for (const a of attackers) await a.send(encode(m));
    }
    // More frames in one message than a batch may hold.
    for (const a of attackers) await a.send(Array.from({ length: 300 }, () => Buffer.from("{}")));
    await Promise.all(attackers.map((a) => spray(a, 3000)));
    // Each attacker is cut off after CUT_OFF_AFTER malformed frames: the rest is dropped unread.
    await waitFor(
      () =>
        p.dispatcher.metrics().rejects.byCode.CUT_OFF === 1 &&
        p.collector.metrics().rejects.byCode.CUT_OFF === 1,
      10_000,
      "both servers to cut the attacker off",
    );
    // Frames over the size limit make libzmq drop the connection; nothing else happens.
    for (const a of attackers) await a.send(Buffer.alloc(LIMITS.maxFrameBytes + 4096, 0x7b));
    await new Promise((r) => setTimeout(r, 100));
    const d = p.dispatcher.metrics();
    expect(d.workers).toBe(0);
    expect(d.rejects.byCode.UNKNOWN_PEER).toBeGreaterThan(0);
    expect(d.rejects.byCode.NOT_JSON).toBeGreaterThan(0);
    expect(d.rejects.byCode.UNKNOWN_VERSION).toBeGreaterThan(0);
    expect(d.rejects.byCode.BAD_FRAMES).toBe(1);
    // Of the 3,000 junk messages only about CUT_OFF_AFTER per connection were read (the attacker's
    // socket reconnects under a new routing id after the oversized frame and is cut off again).
    expect(d.rejects.total).toBeLessThan(3 * CUT_OFF_AFTER + valid.length);
    const c = p.collector.metrics();
    expect(c.rejects.byCode.UNEXPECTED_KIND).toBeGreaterThan(0);
    expect(c.rejects.byCode.INVALID).toBeGreaterThan(0);
    expect(c.rejects.byCode.BAD_FRAMES).toBe(1);
    expect(c.rejects.total).toBeLessThan(3 * CUT_OFF_AFTER + valid.length);

    await serveWorker(p, "a", 8, { delayMs: 1 });
    const report = await p.dispatcher.runJob({ id: "after-fuzz", targets: targets(200) }).done;
    expect(report.receipted).toBe(200);
    const lines = await p.store.lines();
    // The one valid result the attackers sent ("fuzzed" job) is legitimately stored: no auth without CURVE.
    expect(lines.filter((r) => r.job === "after-fuzz")).toHaveLength(200);
    expect(lines.filter((r) => r.job !== "after-fuzz" && r.job !== "fuzzed")).toHaveLength(0);
  });

  it("bad frames from a fake dispatcher do not break a worker, which then serves a real dispatcher", async () => {
    const p = await pipeline();
    const fake = new zmq.Router({ linger: 0, sendHighWaterMark: 100_000 });
    await fake.bind(tcpBind());
    const endpoint = fake.lastEndpoint!; // the real dispatcher binds the same port later
    let fakeOpen = true;
    onTestFinished(() => {
      if (fakeOpen) fake.close();
    });
    // The fake never heartbeats: a worker that keeps its schedule under the spray would give up on
    // it after heartbeatTimeoutMs and redial, so give it long enough to take the whole spray.
    const a = workerLink({ dispatcher: { endpoint }, collector: p.collector }, "a", 4, {
      heartbeatTimeoutMs: 60_000,
    });
    await a.start();
    const [identity] = (await fake.receive()) as Buffer[];
    await spray(fake, 3000, [identity!]);
    // More tasks than the credit window: the surplus is refused.
    for (let seq = 0; seq < 20; seq++) {
      await fake.send([identity!, encode({ t: "task", job: "fake", seq, attempt: 1, target: "h" })]);
    }
    await waitFor(() => a.metrics().rejects.total >= 2500, 10_000, "worker rejects");
    expect(a.metrics().held).toBeLessThanOrEqual(5);
    fake.close();
    fakeOpen = false;
    const d = new Dispatcher({ endpoint, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600 });
    await rebind(d);
    onTestFinished(() => d.close());
    await waitFor(() => d.metrics().workers === 1, 5000, "worker to join the real dispatcher");
    const ran = runWorker(a, { id: "a", capacity: 4, delayMs: 1 });
    const report = await d.runJob({ id: "real", targets: targets(100) }).done;
    expect(report.receipted).toBe(100);
    expect(ran.ran.filter((t) => t.job === "real")).toHaveLength(100);
  });
});
