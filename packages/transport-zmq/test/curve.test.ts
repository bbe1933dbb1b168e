import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import * as zmq from "zeromq";
import { Collector, Dispatcher, generateKeyPair, type WorkerCurveOptions, WorkerLink } from "../src/index.js";
import { connectable, FileStore, runWorker, targets, tcpBind, tempDir, waitFor } from "./helpers.js";

describe("CURVE with a ZAP allow-list", () => {
  it("a worker with a wrong or missing key gets nothing and injects nothing; an allowed one works", async () => {
    const dir = tempDir();
    const dKeys = generateKeyPair();
    const sKeys = generateKeyPair();
    const good = generateKeyPair();
    const bad = generateKeyPair();
    const store = await FileStore.open(join(dir, "out.ndjson"));
    const dispatcher = new Dispatcher({
      endpoint: tcpBind(),
      curve: { ...dKeys, allow: [good.publicKey] },
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 600,
    });
    const collector = new Collector({
      endpoint: tcpBind(),
      store,
      curve: { ...sKeys, allow: [good.publicKey] },
      batchMaxMs: 5,
    });
    await dispatcher.bind();
    await collector.bind();
    onTestFinished(() => dispatcher.close());
    onTestFinished(() => collector.close());
    const authRejects: string[] = [];
    dispatcher.on("reject", (r) => r.code === "AUTH" && authRejects.push(r.message));
    const link = (id: string, curve: WorkerCurveOptions | undefined) => {
      const l = new WorkerLink({
        dispatcher: connectable(dispatcher.endpoint),
        sink: connectable(collector.endpoint),
        id,
        capacity: 4,
        heartbeatIntervalMs: 100,
        heartbeatTimeoutMs: 600,
        ...(curve ? { curve } : {}),
      });
      onTestFinished(() => l.destroy());
      return l;
    };

    // Wrong key (not allow-listed), right server keys.
    const intruder = link("intruder", { ...bad, dispatcherKey: dKeys.publicKey, sinkKey: sKeys.publicKey });
    const authErrors: string[] = [];
    intruder.on("auth-error", (e) => authErrors.push(`${e.link}: ${e.error.message}`));
    await intruder.start();
    // No key at all.
    const plain = link("plain", undefined);
    await plain.start();
    // Both try to inject a result for seq 0 before the job runs.
    const forged = {
      t: "result" as const,
      job: "secure",
      seq: 0,
      attempt: 1,
      target: "host0",
      worker: "forger",
      slot: 0,
      durationMs: 1,
      at: Date.now(),
      ok: true as const,
      uptime: { raw: "forged", text: "forged", seconds: 1 },
    };
    const timeout = () => new Promise((r) => setTimeout(r, 300));
    await Promise.race([intruder.sendResult(forged), timeout()]);
    await Promise.race([plain.sendResult(forged), timeout()]);
    // A raw socket speaking no CURVE at all, straight to the collector.
    const raw = new zmq.Dealer({ linger: 0 });
    onTestFinished(() => raw.close());
    raw.connect(connectable(collector.endpoint));
    await Promise.race([raw.send(JSON.stringify({ ...forged, v: 1 })), timeout()]);

    await waitFor(() => authErrors.length >= 2, 5000, "auth errors on both links of the intruder");
    expect(authErrors.some((e) => e.startsWith("dispatcher:") && /allow-list/.test(e))).toBe(true);
    expect(authErrors.some((e) => e.startsWith("sink:"))).toBe(true);
    expect(authRejects.length).toBeGreaterThan(0);
    const ri = runWorker(intruder, { id: "intruder", capacity: 4, delayMs: 1 });
    const rp = runWorker(plain, { id: "plain", capacity: 4, delayMs: 1 });

    const allowed = link("allowed", { ...good, dispatcherKey: dKeys.publicKey, sinkKey: sKeys.publicKey });
    await allowed.start();
    const ra = runWorker(allowed, { id: "allowed", capacity: 4, delayMs: 1 });
    const report = await dispatcher.runJob({ id: "secure", targets: targets(50) }).done;
    expect(report.receipted).toBe(50);
    expect(ra.ran).toHaveLength(50);
    expect(ri.ran).toHaveLength(0);
    expect(rp.ran).toHaveLength(0);
    expect(dispatcher.workerList().map((w) => w.worker)).toEqual(["allowed"]);
    const lines = await store.lines();
    expect(lines).toHaveLength(50);
    expect(lines.every((r) => r.worker === "allowed")).toBe(true);
    expect(collector.metrics().received).toBe(50);
    // the peers without CURVE are seen as failed handshakes, the wrong key as ZAP refusals
    expect(dispatcher.metrics().rejects.byCode.HANDSHAKE).toBeGreaterThan(0);
    expect(collector.metrics().rejects.byCode.HANDSHAKE).toBeGreaterThan(0);
    expect(collector.metrics().rejects.byCode.AUTH).toBeGreaterThan(0);
  });

  it("invalid keys are refused up front with a TypeError naming the option", () => {
    const k = generateKeyPair();
    expect(() => new Dispatcher({ curve: { ...k, allow: ["short"] } })).toThrow(
      /curve\.allow\[0\].*40-character Z85/,
    );
    expect(
      () =>
        new Collector({
          store: { has: () => false, write: async () => {} },
          curve: { ...k, secretKey: "x", allow: [] },
        }),
    ).toThrow(/curve\.secretKey/);
    expect(
      () =>
        new WorkerLink({
          dispatcher: "tcp://127.0.0.1:1",
          sink: "tcp://127.0.0.1:2",
          id: "w",
          capacity: 1,
          curve: { ...k, dispatcherKey: `${"a".repeat(39)} ` },
        }),
    ).toThrow(/curve\.dispatcherKey/);
  });
});
