import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { makeTempDir } from "@uptime/test-utils";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadSshConfig, type ResolvedTarget, resolveTarget } from "../src/index.js";

// The oracle is OpenSSH itself: `ssh -G -F FILE [user@]HOST [-p PORT]` prints what ssh would use.
let dir: string;
let cleanup: () => void;
const files: Record<string, string> = {};

const CONFIGS: Record<string, (d: string) => string> = {
  basic: () => `
# an alias with everything a fleet usually sets
Host web1
  HostName 10.1.2.3
  Port 2222
  User ops
  IdentityFile ~/.ssh/fleet_key
Host web?
  HostName %h.example.com
  IdentityFile ~/.ssh/k_%h_%r_%p
  IdentityFile /keys/%d/%u/%%/%n
Host db-* !db-secret
  User dba
  Port 5022
  ConnectTimeout 7
Host *.internal
  ProxyJump admin@bastion.example.com:2200,gw
  StrictHostKeyChecking accept-new
HOST UPPER
  hostname Upper.Example.COM
  PORT 2022
Host *
  User fallback
  IdentityFile ~/.ssh/common
`,
  match: () => `
Host alias1
  HostName real1.example.com
Match host real1.example.com
  User matched-by-hostname
  Port 1001
Match originalhost alias2
  User matched-by-original
Match user root,admin host h*
  Port 1002
Match !host nomatch-* user someone-else
  Port 1003
Match exec "false"
  User never
Match localuser nobody-here
  User never-either
Match all
  ConnectTimeout 3
  UserKnownHostsFile ~/kh1 /etc/kh2
`,
  proxy: () => `
Host pc
  ProxyCommand ssh -W %h:%p jump.example.com
  ProxyJump ignored-because-second
Host pj
  ProxyJump j1
  ProxyCommand ignored-because-second
Host none-jump
  ProxyJump none
Host agent-none
  IdentityAgent none
  IdentitiesOnly yes
  IdentityFile none
Host agent-path
  IdentityAgent ~/agent.%r.sock
Host kh-none
  UserKnownHostsFile none
  GlobalKnownHostsFile /g1 /g2
  StrictHostKeyChecking no
  HostKeyAlias fleet-alias
Host strict
  StrictHostKeyChecking yes
  ConnectTimeout none
`,
  include: (d) => `
Include ${d}/inc/*.conf
Host after-include
  User after
Host scoped
  Include ${d}/scoped.conf
  Port 3001
`,
};

const INCLUDED: Record<string, string> = {
  "inc/10-first.conf": "Host inc-a\n  User from-10\n  Port 1010\n",
  "inc/20-second.conf": "Host inc-a inc-b\n  User from-20\n  HostName b.example.com\n",
  "inc/skip.txt": "Host inc-a\n  User never\n",
  "scoped.conf": "User scoped-user\nHost other\n  Port 9\n",
};

const CASES: [config: string, args: string[]][] = [
  ["basic", ["web1"]],
  ["basic", ["WEB1"]],
  ["basic", ["root@web1"]],
  ["basic", ["web1", "-p", "2500"]],
  ["basic", ["web2"]],
  ["basic", ["alice@web3", "-p", "23"]],
  ["basic", ["web10"]],
  ["basic", ["db-1"]],
  ["basic", ["db-secret"]],
  ["basic", ["app.internal"]],
  ["basic", ["upper"]],
  ["basic", ["UPPER"]],
  ["basic", ["elsewhere"]],
  ["basic", ["10.9.8.7"]],
  ["match", ["alias1"]],
  ["match", ["real1.example.com"]],
  ["match", ["alias2"]],
  ["match", ["root@host1"]],
  ["match", ["admin@other"]],
  ["match", ["someone-else@x"]],
  ["match", ["someone-else@nomatch-1"]],
  ["match", ["plain"]],
  ["proxy", ["pc"]],
  ["proxy", ["bob@pc", "-p", "2201"]],
  ["proxy", ["pj"]],
  ["proxy", ["none-jump"]],
  ["proxy", ["agent-none"]],
  ["proxy", ["agent-path"]],
  ["proxy", ["carol@agent-path"]],
  ["proxy", ["kh-none"]],
  ["proxy", ["strict"]],
  ["include", ["inc-a"]],
  ["include", ["inc-b"]],
  ["include", ["after-include"]],
  ["include", ["scoped"]],
  ["include", ["other"]],
  ["include", ["unrelated"]],
];

const DEFAULT_IDS = [
  "id_rsa",
  "id_ecdsa",
  "id_ecdsa_sk",
  "id_ed25519",
  "id_ed25519_sk",
  "id_xmss",
  "id_dsa",
].map((n) => `~/.ssh/${n}`);
const home = homedir();

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("sshconfig-oracle-"));
  mkdirSync(join(dir, "inc"));
  for (const [name, text] of Object.entries(INCLUDED)) writeFileSync(join(dir, name), text);
  for (const [name, make] of Object.entries(CONFIGS)) {
    files[name] = join(dir, `${name}.config`);
    writeFileSync(files[name], make(dir));
  }
});

afterAll(() => cleanup?.());

/** ssh -G's answer, as the fields of ResolvedTarget (tokens ssh leaves for later expanded from its own output). */
function oracle(file: string, args: string[]): Omit<ResolvedTarget, "host"> {
  const out = execFileSync("ssh", ["-G", "-F", file, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const all = new Map<string, string[]>();
  for (const line of out.split("\n")) {
    const i = line.indexOf(" ");
    if (i < 0) continue;
    const k = line.slice(0, i);
    all.set(k, [...(all.get(k) ?? []), line.slice(i + 1)]);
  }
  const one = (k: string) => all.get(k)?.[0];
  const hostname = one("hostname")!;
  const user = one("user")!;
  const port = one("port")!;
  const original = args.find((a) => !a.startsWith("-") && !/^\d+$/.test(a))!.replace(/^.*@/, "");
  const expand = (s: string) =>
    s.replace(/%(.)/g, (_m, t: string) =>
      t === "%"
        ? "%"
        : t === "h"
          ? hostname
          : t === "p"
            ? port
            : t === "r"
              ? user
              : t === "n"
                ? original
                : t === "d"
                  ? home
                  : t === "u"
                    ? execFileSync("id", ["-un"], { encoding: "utf8" }).trim()
                    : `%${t}`,
    );
  const tilde = (s: string) => (s.startsWith("~/") ? join(home, s.slice(2)) : s);
  const ids = all.get("identityfile") ?? [];
  const isDefault = ids.length === DEFAULT_IDS.length && ids.every((v, i) => v === DEFAULT_IDS[i]);
  const agent = one("identityagent");
  const strict = one("stricthostkeychecking");
  const timeout = one("connecttimeout");
  const userKnown = one("userknownhostsfile")!;
  const globalKnown = one("globalknownhostsfile")!;
  const jump = one("proxyjump");
  const proxyCommand = one("proxycommand");
  return {
    hostname,
    port: Number(port),
    user,
    identityFiles: isDefault ? [] : ids.filter((f) => f !== "none").map((f) => tilde(expand(f))),
    identitiesOnly: one("identitiesonly") === "yes",
    identityAgent: agent === undefined ? undefined : agent === "none" ? false : agent,
    jump: jump === undefined ? undefined : jump.split(","),
    proxyCommand: proxyCommand === undefined ? undefined : expand(proxyCommand),
    connectTimeoutMs: timeout === undefined || timeout === "none" ? undefined : Number(timeout) * 1000,
    hostKeyPolicy:
      strict === "true"
        ? "strict"
        : strict === "false"
          ? "off"
          : strict === "accept-new"
            ? "accept-new"
            : undefined,
    userKnownHostsFiles:
      userKnown === `${home}/.ssh/known_hosts ${home}/.ssh/known_hosts2`
        ? undefined
        : userKnown === "none"
          ? []
          : userKnown.split(" "),
    globalKnownHostsFiles:
      globalKnown === "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"
        ? undefined
        : globalKnown === "none"
          ? []
          : globalKnown.split(" "),
    hostKeyAlias: one("hostkeyalias"),
  };
}

describe("resolveTarget equals ssh -G", () => {
  test.each(CASES)("%s: ssh -G %j", (config, args) => {
    const file = files[config]!;
    const expected = oracle(file, args);
    const target = args[0]! + (args[1] === "-p" ? `:${args[2]}` : "");
    const localUser = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
    const { host: _host, ...got } = resolveTarget(target, { sshConfig: file, username: localUser, port: 22 });
    expect(got).toEqual(expected);
  });

  test(`the corpus has at least 30 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });
});

describe("loadSshConfig", () => {
  test("Match exec is refused with one warning; unsupported directives warn once each", () => {
    const warnings: string[] = [];
    const file = join(dir, "warn.config");
    writeFileSync(
      file,
      "Match exec true\n  User x\nMatch exec true\n  User y\nHost *\n  CertificateFile ~/c\n  PKCS11Provider /p.so\n",
    );
    const config = loadSshConfig([file], { warn: (m) => warnings.push(m) });
    config.resolve("a", {}, { username: "me", port: 22 });
    config.resolve("b", {}, { username: "me", port: 22 });
    expect(warnings.filter((w) => /Match exec/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /certificatefile/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /pkcs11provider/.test(w))).toHaveLength(1);
    expect(config.resolve("a", {}, { username: "me", port: 22 }).user).toBe("me");
  });

  test("precedence: the target's user@ and :port, then ssh_config, then the library's options", () => {
    const file = join(dir, "prec.config");
    writeFileSync(file, "Host h\n  User cfg\n  Port 2000\n");
    expect(resolveTarget("h", { sshConfig: file, username: "lib", port: 3000 })).toMatchObject({
      user: "cfg",
      port: 2000,
    });
    expect(resolveTarget("me@h:4000", { sshConfig: file, username: "lib", port: 3000 })).toMatchObject({
      user: "me",
      port: 4000,
    });
    expect(resolveTarget("other", { sshConfig: file, username: "lib", port: 3000 })).toMatchObject({
      hostname: "other",
      user: "lib",
      port: 3000,
    });
    expect(resolveTarget("h", { sshConfig: false, username: "lib" })).toMatchObject({
      user: "lib",
      port: 22,
    });
  });
});

describe("createProbe reads ssh_config (real OpenSSH sshd)", () => {
  test("an alias with HostName, Port, User, IdentityFile, UserKnownHostsFile, HostKeyAlias, ProxyCommand", async () => {
    const { createProbe } = await import("../src/index.js");
    const { sshKeygen, knownHostsLine, startSshd } = await import("@uptime/test-utils");
    const key = sshKeygen(dir, "fleet_key");
    const sshd = await startSshd([key.publicKey]);
    try {
      const kh = join(dir, "fleet_known_hosts");
      writeFileSync(kh, `${knownHostsLine("fleet-alias", sshd.hostPublicKey)}\n`);
      const file = join(dir, "fleet.config");
      const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
      writeFileSync(
        file,
        `Host web1\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${me}\n  IdentityFile ${key.privateKeyPath}\n` +
          `  UserKnownHostsFile ${kh}\n  HostKeyAlias fleet-alias\n  StrictHostKeyChecking yes\n` +
          // ProxyCommand: OpenSSH's own `ssh -W` through the same sshd; its stdio is the connection.
          `Host via-proxy\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${me}\n  IdentityFile ${key.privateKeyPath}\n` +
          `  UserKnownHostsFile ${kh}\n  HostKeyAlias fleet-alias\n` +
          `  ProxyCommand ssh -F none -o BatchMode=yes -o HostKeyAlias=fleet-alias -o UserKnownHostsFile=${kh} ` +
          `-i ${key.privateKeyPath} -p %p -W %h:%p %r@%h\n` +
          `Host broken-proxy\n  ProxyCommand sh -c 'echo no route >&2; exit 3'\n`,
      );
      // Library options that ssh_config overrides: a wrong port, user and known_hosts.
      const probe = createProbe({
        sshConfig: file,
        agent: false,
        identityFiles: [],
        username: "nobody-at-all",
        port: 1,
        knownHosts: join(dir, "empty_known_hosts"),
        deadlineMs: 30_000,
        handshakeTimeoutMs: 20_000,
        commandTimeoutMs: 20_000,
      });
      try {
        const r = await probe.probe("web1");
        expect(r.ok, r.ok ? "" : `${r.error.code} ${r.error.message}`).toBe(true);
        expect(r).toMatchObject({
          target: "web1",
          resolved: { hostname: "127.0.0.1", port: sshd.port, user: me },
        });
        const proxied = await probe.probe("via-proxy");
        expect(proxied.ok, proxied.ok ? "" : `${proxied.error.code} ${proxied.error.message}`).toBe(true);
        const broken = await probe.probe("broken-proxy");
        expect(broken, JSON.stringify(broken)).toMatchObject({ ok: false, attempts: 1 });
        const without = createProbe({ sshConfig: false, agent: false, deadlineMs: 5000 });
        expect((await without.probe("web1")).ok).toBe(false);
        await without.close();
      } finally {
        await probe.close();
      }
    } finally {
      await sshd.stop();
    }
  }, 90_000);
});
