import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, expect, onTestFinished, test } from "vitest";
import { type Behaviour, type FleetHost, failureMix, startFleet } from "./index.js";
import { execOnHost } from "./test-client.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One fleet whose host i has behaviour list[i]. */
async function fleetOf(list: Behaviour[], extra: { latencyMs?: number; holdCapMs?: number } = {}) {
  const fleet = await startFleet({ hosts: list.length, behaviours: (i) => list[i] ?? "ok", ...extra });
  onTestFinished(() => fleet.close());
  return fleet;
}

/** A raw TCP connection that records what arrives and when. */
function rawConnect(host: FleetHost) {
  const chunks: Array<{ at: number; data: Buffer }> = [];
  const start = Date.now();
  const socket: Socket = connect({ host: host.address, port: host.port });
  let ended = false;
  socket.on("data", (data: Buffer) => chunks.push({ at: Date.now() - start, data }));
  socket.on("error", () => {});
  socket.on("close", () => {
    ended = true;
  });
  onTestFinished(() => {
    socket.destroy();
  });
  return { socket, chunks, bytes: () => Buffer.concat(chunks.map((c) => c.data)), ended: () => ended };
}

const keyBlob = (line: string): string => line.split(" ")[1]!;

describe("behaviours", () => {
  test("auth-reject rejects the fleet's own key", async () => {
    const fleet = await fleetOf(["auth-reject"]);
    await expect(execOnHost(fleet, fleet.hosts[0]!)).rejects.toMatchObject({
      level: "client-authentication",
    });
    expect(fleet.stats()).toMatchObject({ authOk: 0, execs: 0 });
    expect(fleet.stats().authFailed).toBeGreaterThan(0);
  });

  test("changed-hostkey serves a key other than its known_hosts line; hostkey-unknown has no line", async () => {
    const fleet = await fleetOf(["ok", "changed-hostkey", "hostkey-unknown"]);
    const [ok, changed, unknown] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
    const known = readFileSync(fleet.knownHostsPath, "utf8");
    expect(known).toContain(`[${changed.address}]:${changed.port} ${changed.hostPublicKey}`);
    expect(known).not.toContain(`[${unknown.address}]:${unknown.port}`);
    const okKey = (await execOnHost(fleet, ok)).hostKey?.toString("base64");
    const changedKey = (await execOnHost(fleet, changed)).hostKey?.toString("base64");
    const unknownKey = (await execOnHost(fleet, unknown)).hostKey?.toString("base64");
    expect(okKey).toBe(keyBlob(ok.hostPublicKey));
    expect(unknownKey).toBe(keyBlob(unknown.hostPublicKey));
    expect(changedKey).toBeDefined();
    expect(changedKey).not.toBe(keyBlob(changed.hostPublicKey));
  });

  test("exit-status exits 3 with a message on stderr; huge-output writes 1 MiB", async () => {
    const fleet = await fleetOf(["exit-status", "huge-output"]);
    expect(await execOnHost(fleet, fleet.hosts[0]!)).toMatchObject({
      code: 3,
      stdout: "",
      stderr: "uptime: simulated failure\nTry 'uptime --help' for more information.\n",
    });
    const huge = await execOnHost(fleet, fleet.hosts[1]!);
    expect(huge.code).toBe(0);
    expect(huge.stdout.length).toBe(1024 * 1024);
  });

  test("silent accepts TCP and sends nothing for 1 s", async () => {
    const fleet = await fleetOf(["silent"]);
    const raw = rawConnect(fleet.hosts[0]!);
    await sleep(1_000);
    expect(raw.bytes().length).toBe(0);
    expect(raw.ended()).toBe(false);
    expect(fleet.stats()).toMatchObject({ connections: 1, open: 1 });
  });

  test("slow-banner drips its identification line about one byte per second", async () => {
    const fleet = await fleetOf(["slow-banner"]);
    const raw = rawConnect(fleet.hosts[0]!);
    await sleep(2_300);
    const got = raw.bytes().toString("latin1");
    expect("SSH-2.0-".startsWith(got)).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(2);
    // Each byte arrives on its own (the pace is shaping.test.ts's, under fake timers).
    expect(raw.chunks.every((c) => c.data.length === 1)).toBe(true);
  });

  test("garbage sends bytes that are not an SSH banner, then closes", async () => {
    const fleet = await fleetOf(["garbage"]);
    const raw = rawConnect(fleet.hosts[0]!);
    for (let i = 0; i < 100 && !raw.ended(); i++) await sleep(10);
    expect(raw.ended()).toBe(true);
    expect(raw.bytes().length).toBeGreaterThan(0);
    expect(raw.bytes().subarray(0, 4).toString("latin1")).not.toBe("SSH-");
    await expect(execOnHost(fleet, fleet.hosts[0]!)).rejects.toBeInstanceOf(Error);
  });

  test("close-after-auth drops the connection once authenticated", async () => {
    const fleet = await fleetOf(["close-after-auth"]);
    await expect(execOnHost(fleet, fleet.hosts[0]!)).rejects.toBeInstanceOf(Error);
    expect(fleet.stats()).toMatchObject({ authOk: 1, execs: 0 });
  });

  test("no-exec-reply never answers the exec request", async () => {
    const fleet = await fleetOf(["no-exec-reply"]);
    const outcome = execOnHost(fleet, fleet.hosts[0]!);
    const raced = await Promise.race([
      outcome.then(
        () => "answered",
        () => "failed",
      ),
      sleep(1_000),
    ]);
    expect(raced).toBeUndefined();
    expect(fleet.stats()).toMatchObject({ authOk: 1, execs: 1, open: 1 });
  });

  test("stream-forever streams until the hard cap ends it", async () => {
    const fleet = await fleetOf(["stream-forever"], { holdCapMs: 1_200 });
    const host = fleet.hosts[0]!;
    const out = await execOnHost(fleet, host);
    expect(out.code).toBe(0);
    const lines = out.stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(new Set(lines)).toEqual(new Set([host.expected.raw]));
  });

  test("with latencyMs (every write delayed, see shaping.test.ts) a host still answers correctly", async () => {
    const fleet = await fleetOf(["ok"], { latencyMs: 150 });
    const host = fleet.hosts[0]!;
    const out = await execOnHost(fleet, host);
    expect(out.stdout).toBe(`${host.expected.raw}\n`);
  });

  test("close-without-exit writes, then closes the channel with no exit status", async () => {
    const fleet = await fleetOf(["close-without-exit"]);
    expect(await execOnHost(fleet, fleet.hosts[0]!)).toMatchObject({ stdout: "partial", code: undefined });
    expect(fleet.stats()).toMatchObject({ authOk: 1, execs: 1 });
  });

  test("password-only offers only the password method", async () => {
    const fleet = await fleetOf(["password-only"]);
    await expect(execOnHost(fleet, fleet.hosts[0]!)).rejects.toMatchObject({
      level: "client-authentication",
    });
    expect(fleet.stats()).toMatchObject({ authOk: 0, execs: 0 });
  });
});

test("connections end when their clients leave, whatever the behaviour", async () => {
  const list: Behaviour[] = ["silent", "slow-banner", "garbage", "no-exec-reply", "stream-forever", "ok"];
  const fleet = await fleetOf(list, { latencyMs: 5 });
  const raws = fleet.hosts.map((h) => rawConnect(h));
  for (const r of raws) r.socket.write("SSH-2.0-OpenSSH_9.6\r\n"); // unread input must not keep a socket alive
  for (let i = 0; i < 100 && fleet.stats().connections < list.length; i++) await sleep(10);
  expect(fleet.stats().connections).toBe(list.length);
  await sleep(200); // let garbage arrive and the banners start
  for (const r of raws) r.socket.destroy();
  for (let i = 0; i < 200 && fleet.stats().open > 0; i++) await sleep(10);
  expect(fleet.stats().open).toBe(0);
});

describe("failureMix", () => {
  test("is deterministic and close to the asked rate", () => {
    const mix = failureMix(0.2);
    const picks = Array.from({ length: 5000 }, (_, i) => mix(i));
    expect(picks).toEqual(Array.from({ length: 5000 }, (_, i) => failureMix(0.2)(i)));
    const failing = picks.filter((b) => b !== "ok").length / picks.length;
    expect(failing).toBeGreaterThan(0.17);
    expect(failing).toBeLessThan(0.23);
    expect(new Set(picks).size).toBeGreaterThan(8);
  });
});
