import type { Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { shapeSocket } from "./shaping.js";

/** A stand-in for a socket that records what reaches the wire and when (fake time). */
function recordingSocket() {
  const wire: Array<{ at: number; data: string }> = [];
  let endedAt: number | undefined;
  const start = Date.now();
  const socket = {
    destroyed: false,
    write(data: Buffer) {
      wire.push({ at: Date.now() - start, data: data.toString("latin1") });
      return true;
    },
    end() {
      endedAt = Date.now() - start;
      return socket;
    },
  };
  return { socket: socket as unknown as Socket, wire, endedAt: () => endedAt };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("shapeSocket", () => {
  test("latencyMs: every write leaves that long after it was made, in order, and end waits for them", async () => {
    const rec = recordingSocket();
    const clear = shapeSocket(rec.socket, { latencyMs: 150, dripFirstLine: false, dripIntervalMs: 1000 });
    rec.socket.write("a");
    await vi.advanceTimersByTimeAsync(149);
    expect(rec.wire).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.wire).toEqual([{ at: 150, data: "a" }]);
    rec.socket.write("b");
    await vi.advanceTimersByTimeAsync(50);
    rec.socket.write("c");
    rec.socket.end();
    expect(rec.endedAt()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(rec.wire).toEqual([
      { at: 150, data: "a" },
      { at: 300, data: "b" },
      { at: 350, data: "c" },
    ]);
    expect(rec.endedAt()).toBe(350);
    clear();
  });

  test("dripFirstLine: the first line goes one byte per interval, the rest after it", async () => {
    const rec = recordingSocket();
    const clear = shapeSocket(rec.socket, { latencyMs: 0, dripFirstLine: true, dripIntervalMs: 1000 });
    rec.socket.write("SSH-2.0\r\nrest");
    expect(rec.wire).toEqual([{ at: 0, data: "S" }]);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(rec.wire.map((w) => w.data).join("")).toBe("SSH");
    await vi.advanceTimersByTimeAsync(7_000);
    expect(rec.wire.map((w) => w.at)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    expect(rec.wire.map((w) => w.data).join("")).toBe("SSH-2.0\r\nrest");
    expect(rec.wire.at(-1)).toEqual({ at: 9000, data: "rest" });
    clear();
  });

  test("the returned function drops what is pending and stops the timer", async () => {
    const rec = recordingSocket();
    const clear = shapeSocket(rec.socket, { latencyMs: 100, dripFirstLine: false, dripIntervalMs: 1000 });
    rec.socket.write("late");
    clear();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.wire).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
