import type { Behaviour } from "@uptime/test-fleet";
import { activeHandles, settleHandles } from "@uptime/test-utils";
import { describe, expect, onTestFinished, test } from "vitest";
import { useFixture } from "./helpers/fixture.js";

const fast = {
  connectTimeoutMs: 500,
  handshakeTimeoutMs: 500,
  commandTimeoutMs: 500,
  deadlineMs: 5000,
};

async function expectCode(behaviour: Behaviour, code: string, extra: object = {}) {
  const fx = useFixture();
  const server = await fx.server({ behaviour });
  const before = activeHandles();
  const probe = fx.probe({ ...fast, ...extra });
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r.ok).toBe(false);
  if (r.ok) return r;
  expect(r.error.code, r.error.message).toBe(code);
  // Everything is released: the server sees the socket go, the pool holds nothing, no handle outlives the probe.
  await server.waitForNoSockets(1000);
  expect(probe.stats()).toMatchObject({ open: 0, idle: 0, running: 0, queued: 0 });
  const after = await settleHandles(before);
  expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
  expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
  return r;
}

// The code names the timer that fired: a stage timeout (500 ms) rather than the deadline (5 s), or the deadline
// where the stage timeouts are longer. How long failures take at scale is a benchmark's business, not asserted here.
describe("a server that misbehaves yields its code and releases everything", () => {
  test("never sends a banner: HANDSHAKE after handshakeTimeoutMs", async () => {
    const r = await expectCode("silent", "HANDSHAKE");
    expect(r.ok || r.error.message).toMatch(/banner/);
  });

  test("sends the banner one byte a second: HANDSHAKE", async () => {
    await expectCode("slow-banner", "HANDSHAKE");
  });

  test("speaks something else: HANDSHAKE", async () => {
    await expectCode("garbage", "HANDSHAKE");
  });

  test("never answers the exec: COMMAND_TIMEOUT", async () => {
    await expectCode("no-exec-reply", "COMMAND_TIMEOUT");
  });

  test("streams a line every 100 ms forever: COMMAND_TIMEOUT although output keeps coming", async () => {
    await expectCode("stream-forever", "COMMAND_TIMEOUT");
  });

  test("streams output forever: OUTPUT_TOO_LARGE once past the cap", async () => {
    // The same endless stream (a ~70-byte line every 100 ms) with a 200-byte cap: cut after a few lines, long
    // before the command timeout.
    await expectCode("stream-forever", "OUTPUT_TOO_LARGE", { maxOutputBytes: 200, commandTimeoutMs: 4000 });
  });

  test("sends 1 MiB: OUTPUT_TOO_LARGE at the default 64 KiB cap", async () => {
    await expectCode("huge-output", "OUTPUT_TOO_LARGE");
  });

  test("the overall deadline wins over longer stage timeouts: DEADLINE", async () => {
    await expectCode("no-exec-reply", "DEADLINE", { commandTimeoutMs: 20_000, deadlineMs: 500 });
    await expectCode("silent", "DEADLINE", { handshakeTimeoutMs: 20_000, deadlineMs: 500 });
  });

  test("closes the channel without exit status: CLOSED", async () => {
    await expectCode("close-without-exit", "CLOSED");
  });

  test("closes the connection right after auth: CLOSED", async () => {
    await expectCode("close-after-auth", "CLOSED");
  });

  test("rejects our key: AUTH", async () => {
    const r = await expectCode("auth-reject", "AUTH");
    expect(r.ok || r.error.message).toContain("id_ed25519");
  });

  test("allows only passwords: AUTH naming what it allows", async () => {
    const r = await expectCode("password-only", "AUTH");
    expect(r.ok || r.error.message).toContain("password");
  });
});

test("non-zero exit gives EXIT_STATUS with the status and the first stderr line", async () => {
  const fx = useFixture();
  const server = await fx.server({ behaviour: "exit-status" });
  const probe = fx.probe(fast);
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "EXIT_STATUS", exitStatus: 3 } });
  // The host writes two lines; the message keeps the first.
  expect(r.ok || r.error.message).toBe("exit status 3: uptime: simulated failure");
  // The connection itself was fine, so it is pooled and reused.
  const again = await probe.probe(`127.0.0.1:${server.port}`);
  expect(again.ok).toBe(false);
  expect(probe.stats().idle).toBe(1);
  expect(server.stats().connections).toBe(1);
});

test("output of the probe command that is not uptime output gives PARSE; a custom command gets ok", async () => {
  const fx = useFixture();
  const server = await fx.server();
  // The simulated host answers `echo ...` as a shell would.
  const probe = fx.probe({ ...fast, command: "echo Welcome!" });
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "PARSE" } });
  expect(r.ok || r.error.message).toContain("Welcome!");
  const c = await probe.probe(`127.0.0.1:${server.port}`, { command: "echo ran hostname" });
  expect(c).toMatchObject({ ok: true, output: "ran hostname\n", reused: true });
  expect(c.ok && c.uptime).toBeUndefined();
});

test("a refused port gives REFUSED", async () => {
  const fx = useFixture();
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const r = await fx.probe(fast).probe(`127.0.0.1:${port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "REFUSED" } });
  expect(r.ok || r.error.message).toContain("ECONNREFUSED");
});

test("an unresolvable name gives DNS", async () => {
  const fx = useFixture();
  const r = await fx.probe({ ...fast, deadlineMs: 5000 }).probe("no-such-host.invalid");
  expect(r).toMatchObject({ ok: false, error: { code: "DNS" } });
});

test("aborting a running probe gives ABORTED and releases the connection", async () => {
  const fx = useFixture();
  const server = await fx.server({ behaviour: "no-exec-reply" });
  const probe = fx.probe({ ...fast, commandTimeoutMs: 20_000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const r = await probe.probe(`127.0.0.1:${server.port}`, { signal: controller.signal });
  expect(r).toMatchObject({ ok: false, error: { code: "ABORTED" } });
  await server.waitForNoSockets(1000);
});

test("close() aborts in-flight probes and later probes report ABORTED", async () => {
  const fx = useFixture();
  const server = await fx.server({ behaviour: "no-exec-reply" });
  const probe = fx.probe({ ...fast, commandTimeoutMs: 20_000 });
  const pending = probe.probe(`127.0.0.1:${server.port}`);
  await new Promise((r) => setTimeout(r, 200));
  await probe.close();
  expect(await pending).toMatchObject({ ok: false, error: { code: "ABORTED" } });
  expect(await probe.probe(`127.0.0.1:${server.port}`)).toMatchObject({
    ok: false,
    error: { code: "ABORTED" },
  });
  await server.waitForNoSockets(1000);
});

test("a host that never completes the TCP handshake gives CONNECT_TIMEOUT, not DEADLINE", async () => {
  const { startBlackhole } = await import("./helpers/blackhole.js");
  const hole = await startBlackhole();
  onTestFinished(() => hole.close());
  const fx = useFixture();
  const before = activeHandles();
  const probe = fx.probe({ ...fast, connectTimeoutMs: 300 });
  const r = await probe.probe(`127.0.0.1:${hole.port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "CONNECT_TIMEOUT" } });
  expect((await settleHandles(before)).TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
});
