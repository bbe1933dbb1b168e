import { expect, test } from "vitest";
import { KeyedLimiter } from "./limits.js";

const never = new AbortController().signal;

test("a drop lowers the key's limit below what was in flight; completed handshakes raise it again", async () => {
  const limiter = new KeyedLimiter(8);
  const permits = await Promise.all(Array.from({ length: 5 }, () => limiter.acquire("a:22", never)));
  expect(limiter.limitOf("a:22")).toBe(8);
  permits[4]!.release("dropped");
  expect(limiter.limitOf("a:22")).toBe(4);
  expect(limiter.limitOf("b:22")).toBe(8);
  for (const p of permits.slice(0, 4)) p.release("ok");
  // Four completions at limit 4 raise it by one.
  expect(limiter.limitOf("a:22")).toBe(5);
});

test("waiters beyond a lowered limit wait; a raised limit admits them", async () => {
  const limiter = new KeyedLimiter(3);
  const held = await Promise.all([0, 1, 2].map(() => limiter.acquire("a:22", never)));
  let admitted = 0;
  const waiting = [0, 1, 2].map(async () => {
    const permit = await limiter.acquire("a:22", never);
    admitted++;
    return permit;
  });
  held[2]!.release("dropped"); // limit 2: two still active, nobody admitted
  await new Promise((r) => setImmediate(r));
  expect(admitted).toBe(0);
  held[0]!.release("ok");
  held[1]!.release("ok"); // two completions at limit 2: back to 3
  await new Promise((r) => setImmediate(r));
  expect(limiter.limitOf("a:22")).toBe(3);
  expect(admitted).toBe(3);
  for (const p of await Promise.all(waiting)) p.release("ok");
});

test("an aborted waiter leaves the queue with the signal's reason", async () => {
  const limiter = new KeyedLimiter(1);
  const held = await limiter.acquire("a:22", never);
  const controller = new AbortController();
  const waiting = limiter.acquire("a:22", controller.signal);
  controller.abort(new Error("gone"));
  await expect(waiting).rejects.toThrow("gone");
  held.release("ok");
  const again = await limiter.acquire("a:22", never);
  again.release("ok");
});
