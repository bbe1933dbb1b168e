import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { promisify } from "node:util";
import { describe, expect, onTestFinished, test } from "vitest";
import { type FleetOptions, startFleet } from "./index.js";
import { execOnHost } from "./test-client.js";

const run = promisify(execFile);

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
    const known = readFileSync(fleet.knownHostsPath, "utf8").trim().split("\n");
    expect(known).toEqual(fleet.hosts.map((h) => `[${h.address}]:${h.port} ${fleet.hostPublicKey}`));
    expect(statSync(fleet.clientKeyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${fleet.clientKeyPath}.pub`, "utf8")).toBe(`${fleet.clientPublicKey}\n`);
  });

  test("an ok host answers uptime with its expected line; other commands behave like a shell", async () => {
    const fleet = await fleetFor({ hosts: 3 });
    for (const host of fleet.hosts) {
      const out = await execOnHost(fleet, host);
      expect(out).toMatchObject({ stdout: `${host.expected.raw}\n`, stderr: "", code: 0 });
      expect(host.expected.raw).toContain(host.expected.text);
    }
    const host = fleet.hosts[1]!;
    expect((await execOnHost(fleet, host, "cat /proc/uptime")).stdout).toMatch(
      new RegExp(`^${host.expected.seconds}\\.00 \\d+\\.\\d\\d\\n$`),
    );
    expect(await execOnHost(fleet, host, "frobnicate")).toMatchObject({ code: 127 });
    expect(fleet.stats()).toMatchObject({ connections: 5, authOk: 5, authFailed: 0, execs: 5 });
  });

  test("the real OpenSSH client logs in with strict host key checking", async () => {
    const fleet = await fleetFor({ hosts: 2 });
    const host = fleet.hosts[1]!;
    const { stdout } = await run(
      "ssh",
      [
        ...["-i", fleet.clientKeyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
        ...["-o", `UserKnownHostsFile=${fleet.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes"],
        ...["-F", "/dev/null", "-p", String(host.port), `fleet@${host.address}`, "uptime"],
      ],
      { timeout: 10_000 },
    );
    expect(stdout).toBe(`${host.expected.raw}\n`);
  });

  test("a key the fleet did not issue is rejected", async () => {
    const fleet = await fleetFor({ hosts: 1 });
    const { utils } = (await import("ssh2")).default;
    const stranger = utils.generateKeyPairSync("ed25519").private;
    await expect(
      execOnHost(fleet, fleet.hosts[0]!, "uptime", { privateKey: stranger }),
    ).rejects.toMatchObject({
      level: "client-authentication",
    });
    expect(fleet.stats().authOk).toBe(0);
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
    await expect(startFleet({ hosts: -1 })).rejects.toThrow(/hosts must be/);
    await expect(startFleet({ hosts: 1, firstAddress: "10.0.0.1" })).rejects.toThrow(TypeError);
    await expect(startFleet({ hosts: 2, behaviours: { 1: "explode" as unknown as "ok" } })).rejects.toThrow(
      /behaviours\[1\]/,
    );
  });
});
