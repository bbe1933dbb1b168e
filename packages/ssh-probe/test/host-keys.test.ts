import { createHmac, randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { generateKeyPair } from "@uptime/test-fleet";
import { knownHostsLine } from "@uptime/test-utils";
import { describe, expect, test } from "vitest";
import { useFixture } from "./helpers/fixture.js";

const fast = { connectTimeoutMs: 2000, handshakeTimeoutMs: 2000, commandTimeoutMs: 2000 };

function otherKey(): string {
  return generateKeyPair().publicKey.trim();
}

function hashedName(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac("sha1", salt).update(name).digest();
  return `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
}

describe("known_hosts, strict policy (the default)", () => {
  test("an unknown host gives HOSTKEY_UNKNOWN with the fingerprint", async () => {
    const fx = useFixture();
    const server = await fx.server({ trust: false });
    const r = await fx.probe(fast).probe(`127.0.0.1:${server.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN" } });
    expect(r.ok || r.error.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(server.stats().execs).toBe(0);
  });

  test("a changed key gives HOSTKEY_MISMATCH", async () => {
    const fx = useFixture();
    const server = await fx.server({ trust: false });
    writeFileSync(fx.knownHostsPath, `${knownHostsLine(`[127.0.0.1]:${server.port}`, otherKey())}\n`);
    const r = await fx.probe(fast).probe(`127.0.0.1:${server.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_MISMATCH" } });
    expect(server.stats().execs).toBe(0);
  });

  test("a key marked @revoked gives HOSTKEY_REVOKED even when also listed as the host's key", async () => {
    const fx = useFixture();
    const server = await fx.server();
    appendFileSync(fx.knownHostsPath, `@revoked * ${server.hostPublicKey}\n`);
    const r = await fx.probe(fast).probe(`127.0.0.1:${server.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_REVOKED" } });
  });

  test("several keys per host, pattern lists, hashed |1| entries and comments are understood", async () => {
    const fx = useFixture();
    const a = await fx.server({ trust: false });
    const b = await fx.server({ trust: false });
    const c = await fx.server({ trust: false });
    writeFileSync(
      fx.knownHostsPath,
      [
        "# comment line",
        "",
        knownHostsLine(`[127.0.0.1]:${a.port}`, otherKey()),
        knownHostsLine(`[127.0.0.1]:${a.port}`, a.hostPublicKey),
        knownHostsLine(`web1,[127.0.0.1]:${b.port},10.0.0.1`, b.hostPublicKey),
        knownHostsLine(hashedName(`[127.0.0.1]:${c.port}`), c.hostPublicKey),
        "garbage-line-without-key",
      ].join("\n"),
    );
    const probe = fx.probe(fast);
    for (const s of [a, b, c]) {
      const r = await probe.probe(`127.0.0.1:${s.port}`);
      expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
    }
    // A hashed entry for another port does not match.
    writeFileSync(fx.knownHostsPath, `${knownHostsLine(hashedName("127.0.0.1"), c.hostPublicKey)}\n`);
    const r = await fx.probe(fast).probe(`127.0.0.1:${c.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_UNKNOWN" } });
  });
});

describe("accept-new and off", () => {
  test("accept-new appends new hosts, still refuses changed keys", async () => {
    const fx = useFixture();
    const server = await fx.server({ trust: false });
    writeFileSync(fx.knownHostsPath, "# no trailing newline"); // the append must start on a new line
    const probe = fx.probe({ ...fast, hostKeyPolicy: "accept-new" });
    expect((await probe.probe(`127.0.0.1:${server.port}`)).ok).toBe(true);
    await probe.close();
    expect(readFileSync(fx.knownHostsPath, "utf8")).toBe(
      `# no trailing newline\n${knownHostsLine(`[127.0.0.1]:${server.port}`, server.hostPublicKey)}\n`,
    );
    const changed = await fx.server({ trust: false });
    writeFileSync(fx.knownHostsPath, `${knownHostsLine(`[127.0.0.1]:${changed.port}`, otherKey())}\n`);
    const r = await fx.probe({ ...fast, hostKeyPolicy: "accept-new" }).probe(`127.0.0.1:${changed.port}`);
    expect(r).toMatchObject({ ok: false, error: { code: "HOSTKEY_MISMATCH" } });
    expect(readFileSync(fx.knownHostsPath, "utf8").split("\n").filter(Boolean)).toHaveLength(1);
  });

  test("a thousand new hosts accepted at once: one intact line each, then strict accepts them all", async () => {
    const fx = useFixture();
    // A thousand hosts on 127.0.0.1 (each its own port) sharing one host key.
    const server = await fx.server({ trust: false, hosts: 1000, hostsPerAddress: 1000 });
    const ports = server.hosts.map((h) => h.port);
    const probe = fx.probe({ ...fast, hostKeyPolicy: "accept-new", pool: false, concurrency: 200 });
    let ok = 0;
    for await (const r of probe.probeAll(ports.map((p) => `127.0.0.1:${p}`))) if (r.ok) ok++;
    expect(ok).toBe(1000);
    await probe.close();
    const lines = readFileSync(fx.knownHostsPath, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(1000);
    expect(new Set(lines).size).toBe(1000);
    const [type, b64] = server.hostPublicKey.split(" ");
    for (const line of lines)
      expect(line).toMatch(
        new RegExp(`^\\[127\\.0\\.0\\.1\\]:\\d+ ${type} ${b64!.replace(/[+/]/g, "\\$&")}$`),
      );
    // The written file is what strict mode trusts.
    const strict = fx.probe({ ...fast, pool: false });
    const sample = ports.filter((_, i) => i % 100 === 0).map((p) => `127.0.0.1:${p}`);
    for await (const r of strict.probeAll(sample)) expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
  });

  test("off accepts any key", async () => {
    const fx = useFixture();
    const server = await fx.server({ trust: false });
    const r = await fx.probe({ ...fast, hostKeyPolicy: "off" }).probe(`127.0.0.1:${server.port}`);
    expect(r.ok).toBe(true);
  });
});
