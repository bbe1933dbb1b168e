import { expect, test, vi } from "vitest";
import { useFixture } from "../test/helpers/fixture.js";
import { createProbe } from "./probe.js";
import type { ProbeResult } from "./types.js";

const base = { agent: false as const, identityFiles: [] };

test.each([
  [{ concurrency: 0 }, "Expected `concurrency` to be an integer from 1 to 1000000, got 0 (number)"],
  [{ concurrency: "10" }, /`concurrency`.*got "10" \(string\)/],
  [{ port: 70_000 }, "Expected `port` to be an integer from 1 to 65535, got 70000 (number)"],
  [{ port: 0 }, /`port`.*from 1 to 65535, got 0/],
  [{ port: 22.5 }, /`port`.*got 22.5/],
  [{ hostKeyPolicy: "yes" }, /`hostKeyPolicy`.*"strict", "accept-new" or "off".*got "yes"/],
  [{ agent: 1 }, /`agent`.*socket path or false/],
  [{ identityFiles: "~/.ssh/id_rsa" }, /`identityFiles`.*array of paths/],
  [{ pool: "yes" }, /`pool`/],
  [{ pool: { idleTimeoutMs: -1 } }, /`pool.idleTimeoutMs`/],
  [{ pool: { idleTimeoutMs: 2 ** 31 } }, /`pool.idleTimeoutMs`.*to 2147483647, got 2147483648/],
  [
    { pool: { maxConnection: 5 } },
    "Unknown option `pool.maxConnection`; did you mean `pool.maxConnections`?",
  ],
  [{ command: "" }, /`command`.*non-empty string/],
  [{ deadlineMs: 1.5 }, /`deadlineMs`/],
  [{ deadlineMs: 36_000 * 60_000 }, /`deadlineMs`.*milliseconds from 1 to 2147483647, got 2160000000/],
  [{ connectTimeoutMs: 2 ** 31 }, /`connectTimeoutMs`.*2147483647/],
  [{ handshakeTimeoutMs: 2 ** 40 }, /`handshakeTimeoutMs`.*2147483647/],
  [{ commandTimeoutMs: Number.POSITIVE_INFINITY }, /`commandTimeoutMs`.*got Infinity/],
  [{ retries: -1 }, /`retries`.*from 0/],
  [{ perHostConcurrency: 0 }, /`perHostConcurrency`/],
  [{ maxOutputBytes: 0 }, /`maxOutputBytes`/],
  [{ comand: "id" }, "Unknown option `comand`; did you mean `command`?"],
  [{ deadline: 5000 }, "Unknown option `deadline`; did you mean `deadlineMs`?"],
  [{ concurency: 5 }, /did you mean `concurrency`\?/],
])("createProbe(%j) throws a TypeError naming the option", (options, message) => {
  const make = () => createProbe({ ...base, ...(options as object) });
  expect(make).toThrow(TypeError);
  expect(make).toThrow(message);
});

test("createProbe(non-object) is a TypeError", () => {
  expect(() => createProbe("web1" as never)).toThrow(
    'Expected `options` to be an object, got "web1" (string)',
  );
});

test("the largest valid timeouts and ports are accepted", async () => {
  const probe = createProbe({
    ...base,
    port: 65_535,
    deadlineMs: 2 ** 31 - 1,
    connectTimeoutMs: 2 ** 31 - 1,
    pool: { maxConnections: 0, idleTimeoutMs: 2 ** 31 - 1 },
  });
  await probe.close();
});

test("probe() always returns a promise: misuse rejects, never throws", async () => {
  const probe = createProbe(base);
  const calls: [string, () => Promise<unknown>, RegExp][] = [
    ["empty command", () => probe.probe("web1", { command: "" }), /`command`.*non-empty/],
    ["number command", () => probe.probe("web1", { command: 5 as never }), /`command`.*got 5 \(number\)/],
    ["unknown call option", () => probe.probe("web1", { comand: "id" } as never), /did you mean `command`/],
    ["bad signal", () => probe.probe("web1", { signal: "x" as never }), /`signal`.*AbortSignal/],
    ["bad target", () => probe.probe("bad host"), /whitespace/],
    ["empty host", () => probe.probe({ host: "" }), /target string or \{ host/],
    ["port out of range", () => probe.probe({ host: "web1", port: 70_000 }), /port must be .* 1 to 65535/],
    ["not a target", () => probe.probe(42 as never), /got 42 \(number\)/],
  ];
  for (const [what, call, message] of calls) {
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = call();
    }, what).not.toThrow();
    expect(result, what).toBeInstanceOf(Promise);
    await expect(result, what).rejects.toThrow(TypeError);
    await expect(result, what).rejects.toThrow(message);
  }
  await probe.close();
});

async function collect(iterable: AsyncIterable<ProbeResult>): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

test("probeAll rejects a string, a non-iterable and bad options where the loop runs", async () => {
  const probe = createProbe(base);
  await expect(collect(probe.probeAll("web1" as never))).rejects.toThrow(
    /Expected `targets` to be an iterable of targets, got a string \("web1" \(string\)\); pass \[target\]/,
  );
  await expect(collect(probe.probeAll(new String("web1") as never))).rejects.toThrow(/got a string/);
  await expect(collect(probe.probeAll(42 as never))).rejects.toThrow(/iterable.*got 42 \(number\)/);
  await expect(collect(probe.probeAll(["web1"], { sginal: undefined } as never))).rejects.toThrow(
    "Unknown option `sginal`; did you mean `signal`?",
  );
  await expect(collect(probe.probeAll(["web1"], { command: "id" } as never))).rejects.toThrow(
    /Unknown option `command`/,
  );
  await probe.close();
});

test("a bad target inside probeAll is that target's BAD_TARGET result", async () => {
  // The probe is closed, so valid targets come back ABORTED at once: no network needed to see the others run.
  const probe = createProbe(base);
  await probe.close();
  const results = await collect(
    probe.probeAll(["a b", "web1", { host: "" }, 42, { host: "web2", port: 70_000 }, "h:99999"] as never),
  );
  const byTarget = new Map(results.map((r) => [r.target, r]));
  expect(results).toHaveLength(6);
  expect(byTarget.get("a b")).toMatchObject({ ok: false, attempts: 0, error: { code: "BAD_TARGET" } });
  expect(byTarget.get("a b")).toMatchObject({ error: { message: expect.stringMatching(/whitespace/) } });
  expect(byTarget.get("42 (number)")).toMatchObject({ error: { code: "BAD_TARGET" } });
  expect(byTarget.get("web2")).toMatchObject({
    error: { code: "BAD_TARGET", message: expect.stringMatching(/70000/) },
  });
  expect(byTarget.get("h:99999")).toMatchObject({ error: { code: "BAD_TARGET" } });
  expect(byTarget.get("web1")).toMatchObject({ ok: false, error: { code: "ABORTED" } });
  expect(results.filter((r) => !r.ok && r.error.code === "BAD_TARGET")).toHaveLength(5);
});

test("warns through the logger when the open-files soft limit is below what concurrency needs", async () => {
  const warn = vi.fn();
  const probe = createProbe({ agent: false, identityFiles: [], concurrency: 50_000, logger: { warn } });
  await probe.close();
  expect(warn).toHaveBeenCalledWith(
    expect.stringMatching(/open-files soft limit \d+ .*ulimit -n/),
    expect.anything(),
  );
  const quiet = vi.fn();
  await createProbe({ agent: false, identityFiles: [], concurrency: 10, logger: { warn: quiet } }).close();
  expect(quiet).not.toHaveBeenCalled();
});

test("an unreadable explicit identity file is reported and the probe fails with KEY, not a crash", async () => {
  const fx = useFixture();
  const server = await fx.server();
  const warn = vi.fn();
  const probe = fx.probe({ identityFiles: ["/nonexistent/id_ed25519"], logger: { warn } });
  expect(warn).toHaveBeenCalledWith(expect.stringContaining("/nonexistent/id_ed25519"));
  const r = await probe.probe(`127.0.0.1:${server.port}`);
  expect(r).toMatchObject({ ok: false, error: { code: "KEY" } });
  expect(r.ok || r.error.message).toContain("cannot read identity file /nonexistent/id_ed25519");
});

test("a bad target in probeAll costs the real probes beside it nothing", async () => {
  const fx = useFixture();
  const servers = await Promise.all([fx.server(), fx.server(), fx.server()]);
  const good = servers.map((s) => `127.0.0.1:${s.port}`);
  const probe = fx.probe({ concurrency: 2 });
  const results = await collect(
    probe.probeAll(["bad host", good[0]!, "user@[::1", good[1]!, { host: "x", port: 0 }, good[2]!] as never),
  );
  expect(results).toHaveLength(6);
  const ok = results.filter((r) => r.ok).map((r) => r.target);
  expect(ok.sort()).toEqual([...good].sort());
  const bad = results.filter((r) => !r.ok);
  expect(bad.map((r) => (r.ok ? "" : r.error.code))).toEqual(["BAD_TARGET", "BAD_TARGET", "BAD_TARGET"]);
  expect(bad.map((r) => r.target).sort()).toEqual(["bad host", "user@[::1", "x"].sort());
});
