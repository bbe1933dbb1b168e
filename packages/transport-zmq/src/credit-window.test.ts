import type { Task } from "@uptime/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CreditWindow, GRANT_MS } from "./credit-window.js";
import { TaskInbox } from "./task-inbox.js";

const task = (seq: number, job = "j"): Task =>
  ({ v: 1, t: "task", job, seq, attempt: 1, target: `h${seq}` }) as Task;

afterEach(() => {
  vi.useRealTimers();
});

describe("CreditWindow", () => {
  it("takes tasks up to its size, refuses one over it, and gives a duplicate's credit back at once", () => {
    const sent: number[] = [];
    const w = new CreditWindow(
      2,
      () => true,
      (c) => sent.push(c),
    );
    expect(w.take(task(0))).toBe("taken");
    expect(w.take(task(1))).toBe("taken");
    expect(w.take(task(2))).toBe("over-credit");
    expect(w.heldCount).toBe(2);
    // batch is ceil(2 / 10) = 1: the duplicate's credit goes out at once
    expect(w.take(task(1))).toBe("duplicate");
    expect(sent).toEqual([1]);
    expect(w.heldCount).toBe(2);
  });

  it("batches grants: a tenth of the window at once, the rest within GRANT_MS", () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const w = new CreditWindow(
      20,
      () => true,
      (c) => sent.push(c),
    );
    for (let i = 0; i < 3; i++) w.take(task(i));
    expect(w.giveBack("j", 0)).toBe(true);
    expect(w.giveBack("j", 0)).toBe(false); // not held any more: no second credit
    expect(sent).toEqual([]);
    w.giveBack("j", 1); // 2 owed = a tenth of 20: sent now
    expect(sent).toEqual([2]);
    w.giveBack("j", 2);
    expect(sent).toEqual([2]);
    vi.advanceTimersByTime(GRANT_MS);
    expect(sent).toEqual([2, 1]);
    expect({ granted: w.granted, messages: w.messages }).toEqual({ granted: 3, messages: 2 });
  });

  it("keeps credit owed while not grantable, and a fresh connection voids it", () => {
    let open = false;
    const sent: number[] = [];
    const w = new CreditWindow(
      4,
      () => open,
      (c) => sent.push(c),
    );
    w.take(task(0));
    w.take(task(1));
    w.giveBack("j", 0);
    expect(sent).toEqual([]);
    expect(w.owing).toBe(true);
    open = true;
    w.flush();
    expect(sent).toEqual([1]);
    open = false;
    w.giveBack("j", 1);
    expect(w.owing).toBe(true);
    expect(w.restart()).toBe(4); // the whole window is free; what was owed is in it
    open = true;
    w.flush();
    expect(sent).toEqual([1]);
  });

  it("sends nothing after stop", () => {
    const sent: number[] = [];
    const w = new CreditWindow(
      1,
      () => true,
      (c) => sent.push(c),
    );
    w.take(task(0));
    w.stop();
    w.giveBack("j", 0);
    expect(sent).toEqual([]);
  });
});

describe("TaskInbox", () => {
  it("yields tasks in order, skips those no longer live, and ends when closed", async () => {
    const inbox = new TaskInbox();
    const dropped = new Set([1]);
    const seen: number[] = [];
    const consuming = (async () => {
      for await (const t of inbox.tasks((t) => !dropped.has(t.seq))) seen.push(t.seq);
    })();
    inbox.push(task(0));
    inbox.push(task(1));
    inbox.push(task(2, "other"));
    expect(inbox.queuedOf("j").map((t) => t.seq)).toEqual([0, 1]);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 2]);
    expect(inbox.size).toBe(0);
    inbox.close();
    await consuming;
    expect(inbox.state).toBe("closed");
  });
});
