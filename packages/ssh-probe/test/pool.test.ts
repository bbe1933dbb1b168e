import { expect, test } from "vitest";
import { useFixture } from "./helpers/fixture.js";

const fast = { connectTimeoutMs: 2000, handshakeTimeoutMs: 2000, commandTimeoutMs: 2000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a target's connection is reused for its next probe", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe(fast);
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await probe.probe(`127.0.0.1:${server.port}`));
  expect(results.map((r) => r.ok && r.reused)).toEqual([false, true, true]);
  expect(server.stats()).toMatchObject({ connections: 1, execs: 3 });
  expect(probe.stats()).toMatchObject({ idle: 1, open: 1 });
});

test("a pooled connection the server dropped is replaced transparently, once", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe(fast);
  expect((await probe.probe(`127.0.0.1:${server.port}`)).ok).toBe(true);
  server.dropConnections();
  // Probe at once, before the client has seen the close: the exec hits a dead connection.
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true, reused: false, attempts: 1 });
  expect(server.stats().connections).toBe(2);
  // And once the close has been seen, the pool simply holds nothing for the target.
  server.dropConnections();
  await sleep(50);
  expect(probe.stats().idle).toBe(0);
  expect(await probe.probe(`127.0.0.1:${server.port}`)).toMatchObject({ ok: true, reused: false });
});

test("idle connections close after idleTimeoutMs", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe({ ...fast, pool: { idleTimeoutMs: 150 } });
  expect((await probe.probe(`127.0.0.1:${server.port}`)).ok).toBe(true);
  expect(probe.stats().idle).toBe(1);
  await server.waitForNoSockets(1500);
  expect(probe.stats()).toMatchObject({ idle: 0, open: 0 });
});

test("the pool is bounded: the least recently used idle connection is closed", async () => {
  const fx = useFixture();
  const servers = [await fx.server(), await fx.server(), await fx.server()];
  const probe = fx.probe({ ...fast, pool: { maxConnections: 2 } });
  for (const s of servers) expect((await probe.probe(`127.0.0.1:${s.port}`)).ok).toBe(true);
  expect(probe.stats().idle).toBe(2);
  await servers[0]!.waitForNoSockets(1000);
  expect(servers[1]!.stats().open).toBe(1);
  expect(servers[2]!.stats().open).toBe(1);
});

test("pool: false opens and closes a connection per probe", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe({ ...fast, pool: false });
  for (let i = 0; i < 3; i++)
    expect(await probe.probe(`127.0.0.1:${server.port}`)).toMatchObject({ ok: true, reused: false });
  expect(server.stats().connections).toBe(3);
  await server.waitForNoSockets(1000);
  expect(probe.stats()).toMatchObject({ idle: 0, open: 0 });
});

test("perHostConcurrency bounds unauthenticated connections to one destination", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const probe = fx.probe({ ...fast, pool: false, concurrency: 50, perHostConcurrency: 3 });
  const results = await Promise.all(
    Array.from({ length: 30 }, () => probe.probe(`127.0.0.1:${server.port}`)),
  );
  expect(results.every((r) => r.ok)).toBe(true);
  expect(server.stats().maxPreAuth).toBeGreaterThan(0);
  expect(server.stats().maxPreAuth).toBeLessThanOrEqual(3);
});

test("retries: a connection dropped before the banner is retried by default, with backoff", async () => {
  const fx = useFixture();
  const server = await fx.server({ dropFirstConnections: 1 });
  const once = await fx.probe({ ...fast, handshakeRetries: 0 }).probe(`127.0.0.1:${server.port}`);
  expect(once).toMatchObject({ ok: false, attempts: 1, error: { code: "HANDSHAKE" } });
  expect(once.ok || once.error.message).toMatch(/before the SSH banner/);
  const fx2 = useFixture();
  const server2 = await fx2.server({ dropFirstConnections: 3 });
  const waits: number[] = [];
  const logger = {
    debug: (m: string, f?: Record<string, unknown>) => m === "retrying" && waits.push(f?.waitMs as number),
  };
  const r = await fx2.probe({ ...fast, logger }).probe(`127.0.0.1:${server2.port}`);
  expect(r).toMatchObject({ ok: true, attempts: 4 });
  // Exponential backoff with jitter: d/2..d for d = 100, 200, 400 ms.
  expect(waits).toHaveLength(3);
  waits.forEach((w, i) => {
    expect(w).toBeGreaterThanOrEqual(50 * 2 ** i);
    expect(w).toBeLessThanOrEqual(100 * 2 ** i);
  });
});

test("retries: other transient failures only with `retries`; never once the command has started", async () => {
  const fx = useFixture();
  const server = await fx.server({ behaviour: "close-without-exit" });
  const r = await fx.probe({ ...fast, retries: 3 }).probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: false, attempts: 1, error: { code: "CLOSED" } });
  expect(server.stats().execs).toBe(1);
});

test("probeAll yields in completion order and reads ahead no more than concurrency", async () => {
  const fx = useFixture();
  // Every write of the slow host leaves 100 ms late: its handshake and answer take several times that.
  const slow = await fx.server({ latencyMs: 100 });
  const quick = await fx.server();
  const probe = fx.probe({ ...fast, concurrency: 4 });
  let pulled = 0;
  let yielded = 0;
  let maxAhead = 0;
  function* targets() {
    yield `127.0.0.1:${slow.port}`;
    for (let i = 0; i < 40; i++) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - yielded);
      yield `127.0.0.1:${quick.port}`;
    }
  }
  const order: string[] = [];
  for await (const r of probe.probeAll(targets())) {
    yielded++;
    expect(r.ok).toBe(true);
    order.push(r.target);
  }
  expect(order).toHaveLength(41);
  expect(order[0]).toBe(`127.0.0.1:${quick.port}`);
  expect(order.indexOf(`127.0.0.1:${slow.port}`)).toBeGreaterThan(0);
  expect(maxAhead).toBeLessThanOrEqual(4);
});

test("probeAll accepts async iterables and target objects; breaking out aborts what is in flight", async () => {
  const fx = useFixture();
  // The slow host never answers the exec: only the break can end its probe before the 10 s timeouts.
  const slow = await fx.server({ behaviour: "no-exec-reply" });
  const quick = await fx.server();
  const probe = fx.probe({ ...fast, commandTimeoutMs: 10_000, deadlineMs: 10_000 });
  async function* targets() {
    yield { host: "127.0.0.1", port: slow.port };
    yield { host: "127.0.0.1", port: quick.port, user: "root" };
  }
  for await (const r of probe.probeAll(targets())) {
    expect(r).toMatchObject({ ok: true, target: `root@127.0.0.1:${quick.port}` });
    break;
  }
  await slow.waitForNoSockets(1000);
  expect(probe.stats()).toMatchObject({ running: 0 });
});
