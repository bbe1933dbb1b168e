import { existsSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { expectedUptime, type FleetOptions, startAgent, startFleet } from "./index.js";
import { generateKeyPair, knownHostsLine } from "./keys.js";
import { execOnHost, runOpenSsh } from "./test-client.js";

async function fleetFor(options: FleetOptions) {
  const fleet = await startFleet(options);
  onTestFinished(() => fleet.close());
  return fleet;
}

describe("startFleet", () => {
  test("writes inventory, known_hosts and a 0600 client key, one distinct address per host", async () => {
    const fleet = await fleetFor({ hosts: 5, firstAddress: "127.1.3.253", user: "ops" });
    expect(fleet.hosts.map((h) => h.address)).toEqual([
      "127.1.3.253",
      "127.1.3.254",
      "127.1.4.1",
      "127.1.4.2",
      "127.1.4.3",
    ]);
    const inventory = readFileSync(fleet.inventoryPath, "utf8").trim().split("\n");
    expect(inventory).toEqual(fleet.hosts.map((h) => `ops@${h.address}:${h.port}`));
    const third = fleet.hosts[2]!;
    expect(fleet.find(inventory[2]!)).toBe(third);
    expect(fleet.find(`[${third.address}]:${third.port}`)).toBe(third);
    expect(fleet.find(`${third.address}:1`)).toBeUndefined();
    const known = readFileSync(fleet.knownHostsPath, "utf8").trim().split("\n");
    expect(known).toEqual(fleet.hosts.map((h) => `[${h.address}]:${h.port} ${h.hostPublicKey}`));
    // A real fleet: every host its own key.
    expect(new Set(fleet.hosts.map((h) => h.hostPublicKey)).size).toBe(5);
    expect(fleet.sharedHostKey).toBe(false);
    expect(statSync(fleet.clientKeyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${fleet.clientKeyPath}.pub`, "utf8")).toBe(`${fleet.clientPublicKey}\n`);
  });

  test("an ok host answers uptime with its expected line; other commands behave like a shell", async () => {
    const fleet = await fleetFor({ hosts: 3 });
    for (const host of fleet.hosts) {
      const out = await execOnHost(fleet, host);
      expect(out).toMatchObject({ stdout: `${host.expected.raw}\n`, stderr: "", code: 0 });
      expect(host.expected.raw.replace(/\s+/g, " ")).toContain(host.expected.text);
    }
    const host = fleet.hosts[1]!;
    expect((await execOnHost(fleet, host, "cat /proc/uptime")).stdout).toMatch(
      new RegExp(`^${host.expected.seconds}\\.00 \\d+\\.\\d\\d\\n$`),
    );
    expect(await execOnHost(fleet, host, "frobnicate")).toMatchObject({ code: 127 });
    expect(fleet.stats()).toMatchObject({ connections: 5, authOk: 5, authFailed: 0, execs: 5 });
  });

  test("the real OpenSSH client logs in with strict host key checking, plain and hashed known_hosts", async () => {
    const fleet = await fleetFor({ hosts: 3 });
    for (const [host, knownHosts] of [
      [fleet.hosts[1]!, fleet.knownHostsPath],
      [fleet.hosts[2]!, fleet.knownHostsHashedPath],
    ] as const) {
      const { stdout } = await runOpenSsh([
        ...["-i", fleet.clientKeyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
        ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
        ...["-p", String(host.port), `fleet@${host.address}`, "uptime"],
      ]);
      expect(stdout).toBe(`${host.expected.raw}\n`);
    }
    const hashed = readFileSync(fleet.knownHostsHashedPath, "utf8").trim().split("\n");
    expect(hashed.map((l) => l.split(" ").slice(1).join(" "))).toEqual(
      fleet.hosts.map((h) => h.hostPublicKey),
    );
    for (const line of hashed)
      expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
  });

  test("per-host keys are the same in every fleet that serves a host index (slices agree), and sharedHostKey gives one", async () => {
    const whole = await fleetFor({ hosts: 4, firstAddress: "127.1.9.1" });
    const slice = await fleetFor({ hosts: 2, firstIndex: 2, firstAddress: "127.1.9.1", port: 0 });
    expect(slice.hosts.map((h) => h.hostPublicKey)).toEqual(whole.hosts.slice(2).map((h) => h.hostPublicKey));
    // The key a host presents is the one its known_hosts line lists.
    const presented = (await execOnHost(slice, slice.hosts[1]!)).hostKey?.toString("base64");
    expect(presented).toBe(slice.hosts[1]!.hostPublicKey.split(" ")[1]);
    const shared = await fleetFor({ hosts: 3, sharedHostKey: true });
    expect(shared.sharedHostKey).toBe(true);
    expect(new Set(shared.hosts.map((h) => h.hostPublicKey))).toEqual(new Set([shared.hostPublicKey]));
    await expect(startFleet({ hosts: 1, sharedHostKey: "yes" as never })).rejects.toThrow(
      /Expected `sharedHostKey` to be a boolean/,
    );
  });

  test("agent authentication: OpenSSH logs in through a real ssh-agent holding the fleet's key", async () => {
    const fleet = await fleetFor({ hosts: 2 });
    const agent = await startAgent([fleet.clientKeyPath]);
    onTestFinished(() => agent.stop());
    const host = fleet.hosts[0]!;
    const { stdout } = await runOpenSsh([
      ...["-o", `IdentityAgent=${agent.socketPath}`, "-o", "IdentityFile=/dev/null", "-o", "BatchMode=yes"],
      ...["-o", `UserKnownHostsFile=${fleet.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes"],
      ...["-p", String(host.port), `fleet@${host.address}`, "uptime"],
    ]);
    expect(stdout).toBe(`${host.expected.raw}\n`);
    expect(fleet.stats().authOk).toBe(1);
    await agent.stop();
    expect(existsSync(agent.socketPath)).toBe(false);
  });

  test("an agent restarted on a socket path of the caller's serves again; stop removes only the socket", async () => {
    const fleet = await fleetFor({ hosts: 1 });
    const socketPath = join(fleet.dir, "agent.sock");
    const first = await startAgent([fleet.clientKeyPath], { socketPath });
    process.kill(first.pid, "SIGKILL"); // a hard kill leaves the socket file behind
    for (let i = 0; i < 100 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 10));
    const second = await startAgent([fleet.clientKeyPath], { socketPath });
    onTestFinished(() => second.stop());
    expect(second.socketPath).toBe(socketPath);
    const host = fleet.hosts[0]!;
    const { stdout } = await runOpenSsh([
      ...["-o", `IdentityAgent=${socketPath}`, "-o", "IdentityFile=/dev/null", "-o", "BatchMode=yes"],
      ...["-o", `UserKnownHostsFile=${fleet.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes"],
      ...["-p", String(host.port), `fleet@${host.address}`, "uptime"],
    ]);
    expect(stdout).toBe(`${host.expected.raw}\n`);
    await second.stop();
    expect(existsSync(socketPath)).toBe(false);
    expect(existsSync(fleet.dir)).toBe(true);
  });

  test("dropFirstConnections: each host destroys its first connections before a byte, then serves", async () => {
    const fleet = await fleetFor({ hosts: 2, dropFirstConnections: 2 });
    for (const host of fleet.hosts) {
      await expect(execOnHost(fleet, host)).rejects.toBeInstanceOf(Error);
      await expect(execOnHost(fleet, host)).rejects.toBeInstanceOf(Error);
      expect((await execOnHost(fleet, host)).stdout).toBe(`${host.expected.raw}\n`);
    }
    expect(fleet.stats()).toMatchObject({ connections: 6, authOk: 2, execs: 2 });
  });

  test("dropConnections() ends every open connection; maxPreAuth counts unauthenticated ones at once", async () => {
    const fleet = await fleetFor({ hosts: 1, holdCapMs: 10_000 });
    const host = fleet.hosts[0]!;
    const raws = [0, 1, 2].map(() =>
      connect({ host: host.address, port: host.port })
        .on("error", () => {})
        .resume(),
    );
    onTestFinished(() => {
      for (const r of raws) r.destroy();
    });
    const closed = raws.map((r) => new Promise((resolve) => r.once("close", resolve)));
    for (let i = 0; i < 200 && fleet.stats().open < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fleet.stats()).toMatchObject({ open: 3, maxPreAuth: 3 });
    fleet.dropConnections();
    await Promise.all(closed);
    for (let i = 0; i < 200 && fleet.stats().open > 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Closed connections no longer count: a fourth one, alone, leaves the high-water mark at 3.
    expect((await execOnHost(fleet, host)).stdout).toBe(`${host.expected.raw}\n`);
    expect(fleet.stats()).toMatchObject({ connections: 4, authOk: 1, maxPreAuth: 3 });
  });

  test("a key the fleet did not issue is rejected", async () => {
    const fleet = await fleetFor({ hosts: 1 });
    const stranger = generateKeyPair().privateKey;
    await expect(
      execOnHost(fleet, fleet.hosts[0]!, "uptime", { privateKey: stranger }),
    ).rejects.toMatchObject({
      level: "client-authentication",
    });
    expect(fleet.stats().authOk).toBe(0);
  });

  test("hostsPerAddress shares addresses; firstIndex slices one big fleet; keys can be shared", async () => {
    const whole = await fleetFor({ hosts: 7, hostsPerAddress: 3, firstAddress: "127.31.0.254" });
    expect(whole.hosts.map((h) => h.address)).toEqual([
      ...Array(3).fill("127.31.0.254"),
      ...Array(3).fill("127.31.1.1"),
      "127.31.1.2",
    ]);
    expect(new Set(whole.hosts.slice(0, 3).map((h) => h.port)).size).toBe(3);
    const sharedKey = readFileSync(whole.clientKeyPath, "utf8");
    const slice = await fleetFor({
      hosts: 3,
      firstIndex: 4,
      hostsPerAddress: 3,
      firstAddress: "127.32.0.254",
      clientKey: sharedKey,
      hostKey: sharedKey,
      behaviours: { 5: "exit-status" },
    });
    expect(slice.hosts.map((h) => [h.index, h.address, h.behaviour, h.expected])).toEqual([
      [4, "127.32.1.1", "ok", expectedUptime(4)],
      [5, "127.32.1.1", "exit-status", expectedUptime(5)],
      [6, "127.32.1.2", "ok", expectedUptime(6)],
    ]);
    expect(slice.clientPublicKey).toBe(whole.clientPublicKey);
    expect(slice.hostPublicKey.split(" ")[1]).toBe(whole.clientPublicKey.split(" ")[1]);
    // The first fleet's identity file logs in on the slice.
    expect((await execOnHost(whole, slice.hosts[0]!)).stdout).toBe(`${expectedUptime(4).raw}\n`);
  });

  test("a fixed port is used on every address, counting up within an address", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const fleet = await fleetFor({ hosts: 4, port, hostsPerAddress: 2, firstAddress: "127.33.7.1" });
    expect(fleet.hosts.map((h) => h.target)).toEqual([
      `fleet@127.33.7.1:${port}`,
      `fleet@127.33.7.1:${port + 1}`,
      `fleet@127.33.7.2:${port}`,
      `fleet@127.33.7.2:${port + 1}`,
    ]);
    expect((await execOnHost(fleet, fleet.hosts[3]!)).code).toBe(0);
  });

  test("serves 1,000 hosts from one process", async () => {
    const fleet = await fleetFor({ hosts: 1000, firstAddress: "127.34.0.1" });
    expect(new Set(fleet.hosts.map((h) => h.address)).size).toBe(1000);
    expect(fleet.hosts[999]!.address).toBe("127.34.3.238");
    for (const index of [0, 253, 254, 500, 999]) {
      const host = fleet.hosts[index]!;
      expect((await execOnHost(fleet, host)).stdout).toBe(`${host.expected.raw}\n`);
    }
  });

  test("close() releases every listener", async () => {
    const fleet = await startFleet({ hosts: 3 });
    const { dir } = fleet;
    await fleet.close();
    await fleet.close();
    for (const host of fleet.hosts) {
      const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const s = connect({ host: host.address, port: host.port });
        s.on("connect", () => {
          s.destroy();
          resolve(undefined);
        });
        s.on("error", (e) => resolve(e));
      });
      expect(err?.code).toBe("ECONNREFUSED");
    }
    expect(() => statSync(dir)).toThrow();
  });

  test("misuse throws a TypeError naming the option", async () => {
    await expect(startFleet({ hosts: -1 })).rejects.toThrow(
      "Expected `hosts` to be a whole number >= 0, got -1 (number)",
    );
    await expect(startFleet({ hosts: 1, latencyMS: 5 } as never)).rejects.toThrow(
      "Unknown option `latencyMS`; did you mean `latencyMs`?",
    );
    await expect(startFleet({ hosts: 1, firstAddress: "10.0.0.1" })).rejects.toThrow(TypeError);
    await expect(startFleet({ hosts: 2, behaviours: { 1: "explode" as unknown as "ok" } })).rejects.toThrow(
      /behaviours\[1\]/,
    );
    await expect(startFleet({ hosts: 1, clientKey: "not a key" })).rejects.toThrow(
      /clientKey: cannot parse key/,
    );
  });
});

test("known_hosts lines use the plain address on port 22", () => {
  expect(knownHostsLine("127.1.0.1", 22, "ssh-ed25519 AAAA")).toBe("127.1.0.1 ssh-ed25519 AAAA");
  expect(knownHostsLine("127.1.0.1", 2222, "ssh-ed25519 AAAA")).toBe("[127.1.0.1]:2222 ssh-ed25519 AAAA");
});
