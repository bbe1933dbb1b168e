import { describe, expect, it, onTestFinished, vi } from "vitest";
import { MAX_BATCH, SendQueue } from "./socket-util.js";

/** A socket double that records sends and takes `delayMs` for each, failing sends to `fail`. */
function recorder(delayMs = 1, fail?: string) {
  const sent: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    sent,
    get maxInFlight() {
      return maxInFlight;
    },
    async send(frames: Buffer[]) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      inFlight--;
      if (fail && frames[0]!.toString() === fail)
        throw Object.assign(new Error("unreachable"), { code: "EHOSTUNREACH" });
      sent.push(frames.map((f) => f.toString()));
    },
  };
}

const b = (s: string) => Buffer.from(s);

describe("SendQueue", () => {
  it("keeps one send in flight and coalesces messages of one turn per peer, in order", async () => {
    const socket = recorder();
    const q = new SendQueue(socket, () => {});
    const alice = b("alice");
    const sent: Promise<void>[] = [];
    sent.push(q.send(alice, b("a1")));
    sent.push(q.send(alice, b("a2")));
    sent.push(q.send(b("alice"), b("a3"))); // equal bytes, other Buffer: same peer
    sent.push(q.send(b("bob"), b("b1")));
    sent.push(q.send(alice, b("a4")));
    await Promise.all(sent);
    expect(socket.maxInFlight).toBe(1);
    expect(socket.sent).toEqual([
      ["alice", "a1", "a2", "a3"],
      ["bob", "b1"],
      ["alice", "a4"],
    ]);
  });

  it("caps a batch at MAX_BATCH frames", async () => {
    const socket = recorder();
    const q = new SendQueue(socket, () => {});
    const all = Array.from({ length: MAX_BATCH * 2 + 2 }, (_, i) => q.send(undefined, b(String(i))));
    await Promise.all(all);
    expect(socket.sent.map((f) => f.length)).toEqual([MAX_BATCH, MAX_BATCH, 2]);
    expect(socket.sent.flat().map(Number)).toEqual(all.map((_, i) => i));
  });

  it("reports a failed send to every message of its batch and goes on", async () => {
    const socket = recorder(1, "gone");
    const failures: unknown[] = [];
    const q = new SendQueue(socket, (e) => failures.push(e));
    const errors: string[] = [];
    q.push(b("x"), b("0"));
    q.push(b("gone"), b("1"), (e) => errors.push(`1:${(e as { code: string }).code}`));
    q.push(b("gone"), b("2")); // no handler: goes to onFailure
    await q.send(b("y"), b("3"));
    expect(errors).toEqual(["1:EHOSTUNREACH"]);
    expect(failures).toHaveLength(1);
    expect(socket.sent).toEqual([
      ["x", "0"],
      ["y", "3"],
    ]);
  });

  it("fails what is queued when closed, and everything pushed later", async () => {
    const socket = recorder(5);
    const q = new SendQueue(socket, () => {});
    const first = q.send(undefined, b("1"));
    await new Promise((r) => setImmediate(r)); // "1" is in flight now
    const second = q.send(undefined, b("2"));
    q.close();
    await expect(second).rejects.toThrow(/closed/);
    await expect(q.send(undefined, b("3"))).rejects.toThrow(/closed/);
    await first;
    expect(socket.sent).toEqual([["1"]]);
  });

  it("with coalesceMs, messages trickling in within the window share one send", async () => {
    // Fake timers: the window is asserted by the time advanced, not by how fast the machine is.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const socket = recorder(0);
    const q = new SendQueue(socket, () => {}, 300);
    // A quiet socket sends at the end of the turn: no timer has to fire for it.
    const first = q.send(undefined, b("0"));
    await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(0); // the recorder's own send
    await first;
    expect(socket.sent).toEqual([["0"]]);
    const sent: Promise<void>[] = [];
    for (let i = 1; i <= 3; i++) {
      sent.push(q.send(undefined, b(String(i))));
      await vi.advanceTimersByTimeAsync(2);
    }
    // Inside the window the three wait; when it ends they go in one send.
    expect(socket.sent).toEqual([["0"]]);
    await vi.advanceTimersByTimeAsync(300);
    await Promise.all(sent);
    expect(socket.sent).toEqual([["0"], ["1", "2", "3"]]);
  });

  it("close() cancels a scheduled send", async () => {
    const socket = recorder(0);
    const q = new SendQueue(socket, () => {}, 20);
    await q.send(undefined, b("0"));
    const late = q.send(undefined, b("1"));
    q.close();
    await expect(late).rejects.toThrow(/closed/);
    await new Promise((r) => setTimeout(r, 40));
    expect(socket.sent).toEqual([["0"]]);
  });
});
