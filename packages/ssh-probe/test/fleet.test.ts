import { type Behaviour, startFleet } from "@uptime/test-fleet";
import { expect, onTestFinished, test } from "vitest";
import type { ProbeErrorCode } from "../src/errors.js";
import { createProbe } from "../src/index.js";

const EXPECTED: Record<Exclude<Behaviour, "ok">, ProbeErrorCode[]> = {
  "auth-reject": ["AUTH"],
  "changed-hostkey": ["HOSTKEY_MISMATCH"],
  "hostkey-unknown": ["HOSTKEY_UNKNOWN"],
  "exit-status": ["EXIT_STATUS"],
  "huge-output": ["OUTPUT_TOO_LARGE"],
  silent: ["HANDSHAKE"],
  "slow-banner": ["HANDSHAKE"],
  garbage: ["HANDSHAKE"],
  "close-after-auth": ["CLOSED"],
  "no-exec-reply": ["COMMAND_TIMEOUT"],
  "stream-forever": ["OUTPUT_TOO_LARGE", "COMMAND_TIMEOUT"],
  "hostile-stderr": ["EXIT_STATUS"],
  "close-without-exit": ["CLOSED"],
  "password-only": ["AUTH"],
};

test("against the simulated fleet: every uptime format parses as expected, every behaviour gets its code", async () => {
  const failures = Object.keys(EXPECTED) as (keyof typeof EXPECTED)[];
  const okHosts = 48;
  const behaviours: Record<number, Behaviour> = {};
  failures.forEach((b, i) => {
    behaviours[okHosts + i] = b;
  });
  const fleet = await startFleet({ hosts: okHosts + failures.length, behaviours });
  onTestFinished(() => fleet.close());
  const probe = createProbe({
    agent: false,
    identityFiles: [fleet.clientKeyPath],
    knownHosts: fleet.knownHostsPath,
    concurrency: 64,
    connectTimeoutMs: 1000,
    handshakeTimeoutMs: 700,
    commandTimeoutMs: 700,
    deadlineMs: 3000,
  });
  onTestFinished(() => probe.close());

  let count = 0;
  for await (const r of probe.probeAll(fleet.hosts.map((h) => h.target))) {
    count++;
    const host = fleet.find(r.target);
    expect(host, r.target).toBeDefined();
    if (host!.behaviour === "ok") {
      expect(r.ok, r.ok ? "" : `${r.target}: ${r.error.code} ${r.error.message}`).toBe(true);
      if (!r.ok) continue;
      expect(r.uptime.text, host!.expected.raw).toBe(host!.expected.text);
      expect(r.uptime.seconds, host!.expected.raw).toBe(host!.expected.seconds);
      expect(r.uptime.users, host!.expected.raw).toBe(host!.expected.users);
      if (host!.expected.load) expect(r.uptime.load).toEqual(host!.expected.load);
    } else {
      expect(r.ok, `${host!.behaviour} should fail`).toBe(false);
      if (r.ok) continue;
      expect(EXPECTED[host!.behaviour], `${host!.behaviour}: ${r.error.code} ${r.error.message}`).toContain(
        r.error.code,
      );
    }
  }
  // Every host settled, and no failure is DEADLINE (none is expected): each ended by its own stage limit.
  expect(count).toBe(fleet.hosts.length);
});
