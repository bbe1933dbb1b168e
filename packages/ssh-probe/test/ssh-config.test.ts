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
Match originalhost ALIAS3
  Port 1004
Match host MIXED.example.com
  Port 1005
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
  knownhosts: () => `
Host kh-tokens
  HostName KH.Example.com
  UserKnownHostsFile ~/.ssh/kh_%h_%p %d/kh2_%r
Host kh-global-only
  GlobalKnownHostsFile ~/global_kh /g/%h
Host kh-user-only
  UserKnownHostsFile /fleet/known_hosts
Host kh-global-none
  GlobalKnownHostsFile none
`,
  final: () => `
Host web1
  HostName 10.1.2.3
Match final host 10.1.*
  User final-user
# In the final pass Host patterns see the hostname.
Host 10.1.2.3
  Port 4444
Match canonical
  ConnectTimeout 9
Match !final
  IdentityFile ~/.ssh/first_pass
Match final
  IdentityFile ~/.ssh/first_pass
  IdentityFile ~/.ssh/final_pass
  HostName never-applies
Match final originalhost web1
  StrictHostKeyChecking accept-new
Host late
  HostName late.example.com
Match final user late-*
  Port 5555
Host late
  User late-user
`,
  canonical: () => `
Host c1
  CanonicalizeHostname yes
  HostName 10.9.9.9
Match canonical
  Port 3003
Match canonical
  User never-canonical
Host dup
  IdentityFile ~/.ssh/dup
Host *
  IdentityFile ~/.ssh/dup
  Port 2
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
  ["match", ["alias3"]],
  ["match", ["mixed.EXAMPLE.com"]],
  ["proxy", ["pc"]],
  ["proxy", ["bob@pc", "-p", "2201"]],
  ["proxy", ["pj"]],
  ["proxy", ["none-jump"]],
  ["proxy", ["agent-none"]],
  ["proxy", ["agent-path"]],
  ["proxy", ["carol@agent-path"]],
  ["proxy", ["kh-none"]],
  ["proxy", ["strict"]],
  ["knownhosts", ["kh-tokens"]],
  ["knownhosts", ["kh-tokens", "-p", "2022"]],
  ["knownhosts", ["kh-global-only"]],
  ["knownhosts", ["kh-user-only"]],
  ["knownhosts", ["kh-global-none"]],
  ["knownhosts", ["no-known-hosts-lines"]],
  ["final", ["web1"]],
  ["final", ["WEB1"]],
  ["final", ["10.1.2.3"]],
  ["final", ["other"]],
  ["final", ["late"]],
  ["canonical", ["c2"]],
  ["canonical", ["dup"]],
  ["canonical", ["c1"]],
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
    // ssh -G prints the user files expanded (its defaults included); the global ones as written, to which
    // OpenSSH applies `~` only when it reads them.
    userKnownHostsFiles: userKnown === "none" ? [] : userKnown.split(" "),
    globalKnownHostsFiles: globalKnown === "none" ? [] : globalKnown.split(" ").map(tilde),
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

describe("jump chains, as ssh -J builds them", () => {
  // ssh reaches the first hop with `ssh FIRST` (its own config), later hops with `-J` given: so the chain is the
  // first hop's own ProxyJump (ssh -G FIRST), recursively, followed by the list.
  function opensshChain(file: string, jump: string[]): string[] {
    const out = execFileSync("ssh", ["-G", "-F", file, jump[0]!], { encoding: "utf8" });
    const own = /^proxyjump (.*)$/m.exec(out)?.[1];
    return own ? [...opensshChain(file, own.split(",")), ...jump] : jump;
  }

  test("the first hop's own ProxyJump comes first, recursively; later hops' does not; loops are refused", () => {
    const file = join(dir, "jump.config");
    writeFileSync(
      file,
      [
        "Host a\n  ProxyJump x",
        "Host x\n  ProxyJump ops@y:2200",
        "Host b\n  ProxyJump never-used",
        "Host pc\n  ProxyCommand nc %h %p",
        "Host loop1\n  ProxyJump loop2",
        "Host loop2\n  ProxyJump other,loop1",
        "Host other\n  ProxyJump loop1",
      ].join("\n"),
    );
    const config = loadSshConfig([file]);
    const defaults = { username: "me", port: 22 };
    for (const jump of [["a", "b"], ["b", "a"], ["x"], ["pc", "a"], ["ops@y:2200", "b"]]) {
      expect(config.jumpChain(jump, defaults), jump.join(",")).toEqual(opensshChain(file, jump));
    }
    expect(config.jumpChain(["a", "b"], defaults)).toEqual(["ops@y:2200", "x", "a", "b"]);
    expect(() => config.jumpChain(["loop1"], defaults)).toThrow(
      'ssh_config: ProxyJump loop: "loop1" is reached through "loop2" is reached through "other" is reached through "loop1"',
    );
  });
});

describe("loadSshConfig", () => {
  test("Match exec is refused with one warning; unsupported directives warn once each", () => {
    const warnings: string[] = [];
    const file = join(dir, "warn.config");
    writeFileSync(
      file,
      "Match exec true\n  User x\nMatch exec true\n  User y\nHost *\n  CertificateFile ~/c\n  pkcs11PROVIDER /p.so\n",
    );
    const config = loadSshConfig([file], { warn: (m) => warnings.push(m) });
    config.resolve("a", {}, { username: "me", port: 22 });
    config.resolve("b", {}, { username: "me", port: 22 });
    expect(warnings.filter((w) => /Match exec/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /ssh_config: CertificateFile is not supported/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /ssh_config: PKCS11Provider is not supported/.test(w))).toHaveLength(1);
    expect(config.resolve("a", {}, { username: "me", port: 22 }).user).toBe("me");
  });

  test("Match canonical/final need no warning; CanonicalizeHostname warns once that names are not canonicalized", () => {
    const warnings: string[] = [];
    const file = join(dir, "final-warn.config");
    writeFileSync(
      file,
      "Host a\n  CanonicalizeHostname yes\nMatch !final\n  User first\nMatch final\n  Port 2\nMatch canonical !final\n  Port 3\n",
    );
    const config = loadSshConfig([file], { warn: (m) => warnings.push(m) });
    expect(config.resolve("a", {}, { username: "me", port: 22 })).toMatchObject({ user: "first", port: 2 });
    config.resolve("b", {}, { username: "me", port: 22 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/CanonicalizeHostname is not supported .* names are not canonicalized/);
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
