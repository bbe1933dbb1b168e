import { decode, encode } from "@uptime/protocol";
import { describe, expect, it, onTestFinished } from "vitest";
import * as zmq from "zeromq";
import { WorkerLink } from "../src/index.js";
import { connectable, pipeline, serveWorker, targets, tcpBind, waitFor } from "./helpers.js";

describe("heartbeats", () => {
  it("a worker whose main loop went silent (socket still open) is lost and its tasks are done elsewhere", async () => {
    const p = await pipeline();
    const lost: string[] = [];
    p.dispatcher.on("worker-lost", (w) => lost.push(`${w.worker}:${w.reason}`));
    // A peer that says ready and then never speaks again: libzmq still answers ZMTP for it.
    const frozen = new zmq.Dealer({ linger: 0 });
    onTestFinished(() => frozen.close());
    frozen.connect(connectable(p.dispatcher.endpoint));
    await frozen.send(encode({ t: "ready", worker: "frozen", capacity: 5, credit: 5 }));
    await waitFor(() => p.dispatcher.metrics().workers === 1, 3000, "frozen worker to join");
    const run = p.dispatcher.runJob({ id: "frozen", targets: targets(50) });
    const got: number[] = [];
    while (got.length < 5) {
      for (const frame of await frozen.receive()) {
        const r = decode(frame);
        if (r.ok && r.message.t === "task") got.push(r.message.seq);
      }
    }
    await serveWorker(p, "a", 5, { delayMs: 1 });
    const report = await run.done;
    expect(report).toMatchObject({ receipted: 50, abandoned: [] });
    expect(lost).toEqual(["frozen:timeout"]);
    expect(run.progress().requeued).toBe(5);
  });

  it("a worker that hears nothing from the dispatcher recreates its socket and says ready again", async () => {
    const fake = new zmq.Router({ linger: 0 });
    await fake.bind(tcpBind());
    onTestFinished(() => fake.close());
    const link = new WorkerLink({
      dispatcher: connectable(fake.lastEndpoint!),
      sink: "tcp://127.0.0.1:9", // never reached: nothing is sent there in this test
      id: "pirate",
      capacity: 3,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 400,
    });
    onTestFinished(() => link.destroy());
    await link.start();
    const identities: string[] = [];
    const readies: unknown[] = [];
    const end = Date.now() + 5000;
    while (identities.length < 2 && Date.now() < end) {
      const [id, ...bodies] = await fake.receive();
      for (const b of bodies) {
        const r = decode(b);
        if (r.ok && r.message.t === "ready") {
          identities.push(id!.toString("hex"));
          readies.push(r.message);
        }
      }
    }
    expect(identities).toHaveLength(2);
    expect(identities[0]).not.toBe(identities[1]); // a new socket, a new routing id
    expect(readies[1]).toMatchObject({ worker: "pirate", capacity: 3, credit: 4 });
    expect(link.metrics().reconnects).toBeGreaterThanOrEqual(1);
  });
});
