import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  fingerprint,
  HASHED_WARN,
  KnownHosts,
  knownHostsName,
  orderHostKeyAlgorithms,
} from "./known-hosts.js";

const blob = (seed: number, keyType = "ssh-ed25519") => {
  const type = Buffer.from(keyType);
  const b = Buffer.alloc(4 + type.length + 4 + 32, seed);
  b.writeUInt32BE(type.length, 0);
  type.copy(b, 4);
  b.writeUInt32BE(32, 4 + type.length);
  return b;
};
const line = (name: string, key: Buffer) => `${name} ssh-ed25519 ${key.toString("base64")}`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
function file(text: string): string {
  dir = mkdtempSync(join(tmpdir(), "kh-"));
  const path = join(dir, "known_hosts");
  writeFileSync(path, text);
  return path;
}

test("port 22 is looked up by bare name, other ports as [host]:port", () => {
  expect(knownHostsName("web1", 22)).toBe("web1");
  expect(knownHostsName("::1", 2222)).toBe("[::1]:2222");
  const kh = new KnownHosts(
    file(`${line("web1", blob(1))}\n${line("[web1]:2222", blob(2))}\n`),
    "strict",
    undefined,
  );
  expect(kh.check("web1", 22, blob(1))).toBeUndefined();
  expect(kh.check("web1", 2222, blob(2))).toBeUndefined();
  expect(kh.check("web1", 2222, blob(1))?.code).toBe("HOSTKEY_MISMATCH");
  expect(kh.check("web1", 2200, blob(1))?.code).toBe("HOSTKEY_UNKNOWN");
});

test("wildcards, negation, case and @cert-authority lines", () => {
  const kh = new KnownHosts(
    file(
      [
        line("*.prod.example.com,!db?.prod.example.com", blob(3)),
        line("WEB2", blob(4)),
        `@cert-authority * ssh-ed25519 ${blob(5).toString("base64")}`,
      ].join("\n"),
    ),
    "strict",
    undefined,
  );
  expect(kh.check("app1.prod.example.com", 22, blob(3))).toBeUndefined();
  expect(kh.check("db1.prod.example.com", 22, blob(3))?.code).toBe("HOSTKEY_UNKNOWN");
  expect(kh.check("web2", 22, blob(4))).toBeUndefined();
  // A CA key is not a host key: presenting it directly is not accepted.
  expect(kh.check("anything", 22, blob(5))?.code).toBe("HOSTKEY_UNKNOWN");
});

test("accept-new writes one line per new host, once, even when checked repeatedly at once", async () => {
  const path = file("");
  const kh = new KnownHosts(path, "accept-new", undefined);
  for (let i = 0; i < 3; i++) expect(kh.check("10.0.0.9", 22, blob(6))).toBeUndefined();
  await kh.flush();
  expect(readFileSync(path, "utf8")).toBe(`${line("10.0.0.9", blob(6))}\n`);
  expect(fingerprint(blob(6))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
});

test("a known_hosts with many hashed entries warns once that each host scans them all, and still matches", () => {
  const hashedLine = (name: string, key: Buffer) => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update(name).digest();
    return `|1|${salt.toString("base64")}|${hash.toString("base64")} ssh-ed25519 ${key.toString("base64")}`;
  };
  const lines = Array.from({ length: HASHED_WARN }, (_, i) =>
    hashedLine(`10.0.${i >> 8}.${i & 255}`, blob(i)),
  );
  const warnings: string[] = [];
  const kh = new KnownHosts(file(`${lines.join("\n")}\n`), "strict", { warn: (m) => warnings.push(m) });
  expect(kh.check("10.0.3.7", 22, blob(3 * 256 + 7))).toBeUndefined();
  expect(kh.check("10.0.3.8", 22, blob(1))?.code).toBe("HOSTKEY_MISMATCH");
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`has ${HASHED_WARN} hashed entries`);

  const fewer = join(dir, "fewer");
  writeFileSync(fewer, `${lines.slice(0, HASHED_WARN - 1).join("\n")}\n`);
  const few = new KnownHosts(fewer, "strict", { warn: (m) => warnings.push(m) });
  expect(few.check("10.0.0.1", 22, blob(1))).toBeUndefined();
  expect(warnings).toHaveLength(1);
});

test("a key of a type with no entry is unknown for that type, not changed (as OpenSSH)", () => {
  const ecdsa = blob(7, "ecdsa-sha2-nistp256");
  const text = `web1 ecdsa-sha2-nistp256 ${ecdsa.toString("base64")}\n`;
  const strict = new KnownHosts(file(text), "strict", undefined);
  expect(strict.knownTypes("web1", 22)).toEqual(["ecdsa-sha2-nistp256"]);
  expect(strict.check("web1", 22, ecdsa)).toBeUndefined();
  const unknown = strict.check("web1", 22, blob(1));
  expect(unknown?.code).toBe("HOSTKEY_UNKNOWN");
  expect(unknown?.message).toMatch(/keys of other types are known: ecdsa-sha2-nistp256/);
  // Another ECDSA key is a changed key.
  expect(strict.check("web1", 22, blob(8, "ecdsa-sha2-nistp256"))?.code).toBe("HOSTKEY_MISMATCH");

  const acceptNew = new KnownHosts(file(text), "accept-new", undefined);
  expect(acceptNew.check("web1", 22, blob(1))).toBeUndefined();
  expect(acceptNew.knownTypes("web1", 22)).toEqual(["ecdsa-sha2-nistp256", "ssh-ed25519"]);
  expect(acceptNew.check("web1", 22, blob(2))?.code).toBe("HOSTKEY_MISMATCH");
});

test("host-key algorithms of the known types are asked for first", () => {
  expect(orderHostKeyAlgorithms([])).toBeUndefined();
  expect(orderHostKeyAlgorithms(["ecdsa-sha2-nistp256"])?.slice(0, 2)).toEqual([
    "ecdsa-sha2-nistp256",
    "ssh-ed25519",
  ]);
  expect(orderHostKeyAlgorithms(["ssh-rsa"])?.slice(0, 4)).toEqual([
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-ed25519",
  ]);
  expect(orderHostKeyAlgorithms(["ssh-rsa", "ssh-ed25519"])).toHaveLength(7);
});
