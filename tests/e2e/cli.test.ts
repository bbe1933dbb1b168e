import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  freePort,
  hostsInOutput,
  readFile,
  runApp,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
  writeFile,
} from "./harness.js";

describe("CLI contract", () => {
  it.each([
    ["uptime-sender", BIN.sender],
    ["uptime-worker", BIN.worker],
    ["uptime-sink", BIN.sink],
  ])("%s has --help, --version, and exits 2 naming a wrong flag", async (name, bin) => {
    const help = runApp(bin, ["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain(`Usage:`);
    expect(help.stdout()).toContain(name);
    const version = runApp(bin, ["--version"]);
    expect(await version.exited).toBe(0);
    expect(version.stdout()).toMatch(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+`));
    const bad = runApp(bin, ["--no-such-flag"]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain("--no-such-flag");
  });

  it("bad values are usage errors that say what was expected", async () => {
    const cases: [string, string[], RegExp][] = [
      [BIN.worker, ["w1", "zero"], /CONCURRENCY must be a whole number/],
      [BIN.worker, ["w1", "-s", "127.0.0.1:5557"], /--sender must be an endpoint/],
      [
        BIN.worker,
        ["w1", "--host-key-policy", "maybe"],
        /--host-key-policy must be one of strict, accept-new, off/,
      ],
      [BIN.sink, ["--format", "xml"], /--format must be one of text, ndjson, csv/],
      [BIN.sender, [], /missing HOSTFILE/],
      [BIN.sender, ["/nonexistent/hosts.txt"], /cannot read host file \/nonexistent\/hosts.txt/],
    ];
    for (const [bin, args, re] of cases) {
      const app = runApp(bin, args);
      expect(await app.exited, `${args.join(" ")}: ${app.stderr()}`).toBe(2);
      expect(app.stderr()).toMatch(re);
    }
  });

  it("a flag's bad value exits 2 naming the flag, with ranges the libraries accept", async () => {
    const dir = await tempDir();
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, "web1\n");
    const cases: [string, string[], RegExp, NodeJS.ProcessEnv?][] = [
      [BIN.worker, ["w1", "--deadline", "0"], /--deadline must be a duration from 1ms to 2147483647ms/],
      // 36000 minutes is past Node's timer limit: refused, not a deadline that fires after 1 ms.
      [BIN.worker, ["w1", "--deadline", "36000m"], /--deadline must be .* got "36000m"/],
      [BIN.worker, ["w1", "--connect-timeout", "2147483648"], /--connect-timeout must be a duration/],
      [BIN.worker, ["w1", "--command-timeout", "soon"], /--command-timeout must be a duration like/],
      [BIN.worker, ["w1", "--keep-idle", "0"], /--keep-idle must be a duration/],
      [BIN.worker, ["w1", "--port", "70000"], /--port must be between 1 and 65535, got 70000/],
      [
        BIN.worker,
        ["w1", "--identity", "/nonexistent/key"],
        /--identity \/nonexistent\/key: cannot read it \(ENOENT\)/,
      ],
      [BIN.worker, ["w1", "-c", "0"], /--concurrency must be between 1 and 10000/],
      [BIN.worker, ["w1", "--user", "u".repeat(300)], /--user must be 1 to 256 characters/],
      [BIN.worker, ["w1", "--command", "x".repeat(5000)], /--command must be 1 to 4096 characters/],
      [BIN.worker, ["w1"], /--deadline must be a duration/, { UPTIME_SSH_DEADLINE: "0" }],
      [BIN.sender, [hosts, "--heartbeat-interval", "0"], /--heartbeat-interval must be a duration/],
      [BIN.sender, [hosts, "--heartbeat-timeout", "30d"], /--heartbeat-timeout must be a duration like/],
      [BIN.sender, [hosts, "--max-attempts", "0"], /--max-attempts must be between 1 and 1000/],
      [BIN.sender, [hosts, "--watermark", "0"], /--watermark must be between 1/],
      [
        BIN.sender,
        [hosts, "-w", "0"],
        /-w names hosts now, as in pdsh; for a watermark of 0 use --watermark 0/,
      ],
      [BIN.sender, [hosts, "0"], /WATERMARK must be between 1/],
      [BIN.sender, [hosts, "--command", "x".repeat(5000)], /--command must be 1 to 4096 characters/],
    ];
    const runs = cases.map(([bin, args, re, env]) => ({ app: runApp(bin, args, env), args, re }));
    for (const { app, args, re } of runs) {
      const code = await app.exited;
      const what = `${args.join(" ").slice(0, 80)}: ${app.stderr()}`;
      expect(code, what).toBe(2);
      expect(app.stderr(), what).toMatch(re);
      expect(app.stderr(), what).not.toMatch(/deadlineMs|TypeError|Expected `/);
    }
  }, 90_000);

  it("unreadable or unsafe key files are usage errors (exit 2), chosen by the error's code", async () => {
    const dir = await tempDir();
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, "web1\n");
    const keygen = runApp(BIN.sink, ["--gen-key", join(dir, "sink.key")]);
    expect(await keygen.exited, keygen.stderr()).toBe(0);
    const publicKey = keygen.stdout().trim();
    const open = join(dir, "open.key");
    await writeFile(open, await readFile(join(dir, "sink.key"), "utf8"), { mode: 0o644 });
    const missing = join(dir, "missing.key");
    const cases: [string, string[], RegExp][] = [
      [BIN.sender, [hosts, "--curve-secret", missing, "--curve-allow", missing], /cannot read key file/],
      [BIN.sink, ["--curve-secret", open, "--curve-allow", `${join(dir, "sink.key")}.pub`], /chmod 600/],
      [
        BIN.worker,
        ["w1", "--curve-secret", missing, "--sender-key", publicKey, "--sink-key", publicKey],
        /cannot read key file/,
      ],
      [BIN.sink, ["--gen-key", join(dir, "sink.key")], /exists already/],
      [
        BIN.worker,
        ["w1", "--curve-secret", join(dir, "sink.key"), "--sender-key", hosts, "--sink-key", publicKey],
        /--sender-key: .*hosts.txt does not hold a 40-character Z85 public key/,
      ],
    ];
    for (const [bin, args, re] of cases) {
      const app = runApp(bin, args);
      expect(await app.exited, `${args.join(" ")}: ${app.stderr()}`).toBe(2);
      expect(app.stderr()).toMatch(re);
    }
  }, 60_000);

  it("reports bad inventory lines with their line numbers and still sends the rest", async () => {
    const fleet = await startFleet(3);
    const dir = await tempDir();
    const hosts = join(dir, "hosts.txt");
    await writeFile(
      hosts,
      [
        "# fleet",
        fleet.targets[0],
        "bad host name",
        "",
        fleet.targets[1],
        "user@[::1",
        "h:99999",
        fleet.targets[2],
        "",
      ].join("\n"),
    );
    const out = join(dir, "out.txt");
    const ep = await endpoints();
    const sink = await startSink(out, ep);
    startWorker("w1", 4, ep, fleet);
    const sender = startSender(hosts, ep);
    expect(await sender.exited, sender.stderr()).toBe(0);
    expect(sender.stderr()).toMatch(new RegExp(`${hosts}:3: `));
    expect(sender.stderr()).toMatch(new RegExp(`${hosts}:6: `));
    expect(sender.stderr()).toMatch(new RegExp(`${hosts}:7: `));
    expect(sender.stderr()).toMatch(/3 hosts/);
    await sink.waitFor(/job .*: 3\/3 results/);
    expect((await hostsInOutput(out)).sort()).toEqual([...fleet.targets].sort());
  }, 60_000);

  it("reads the host list from standard input with -", async () => {
    const fleet = await startFleet(2);
    const ep = await endpoints();
    const sink = runApp(BIN.sink, ["--bind", ep.results, "--format", "ndjson"]);
    await sink.waitFor(/listening/);
    startWorker("w1", 2, ep, fleet);
    const sender = runApp(BIN.sender, ["-", "--bind", ep.tasks], {}, `${fleet.targets.join("\n")}\n`);
    expect(await sender.exited, sender.stderr()).toBe(0);
    await sink.waitFor(/"seq":1/);
    const lines = sink
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { target: string; ok: boolean });
    expect(lines.map((l) => l.target).sort()).toEqual([...fleet.targets].sort());
    expect(lines.every((l) => l.ok)).toBe(true);
  }, 60_000);

  it("a worker whose sender is unreachable says so, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const worker = runApp(
      BIN.worker,
      ["w1", "2", "-s", `tcp://127.0.0.1:${port}`, "-r", `tcp://127.0.0.1:${port}`],
      {
        UPTIME_VERBOSE: "",
      },
    );
    await worker.waitFor(/no answer from the sender|cannot reach|not reachable|unreachable/i, 15_000);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 30_000);

  it("a sender whose port is taken exits 1 with the reason", async () => {
    const ep = await endpoints();
    const dir = await tempDir();
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, "web1\n");
    const first = startSender(hosts, ep);
    await first.waitFor(/waiting for workers/);
    const second = startSender(hosts, ep);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/address already in use|EADDRINUSE/i);
    expect(second.stderr()).toContain(ep.tasks);
  }, 30_000);

  it("sender and sink say at start-up what they expose; --trust widens it, loudly, and a bad CIDR is a usage error", async () => {
    const ep = await endpoints();
    const dir = await tempDir();
    const hosts = join(dir, "hosts.txt");
    await writeFile(hosts, "web1\n");
    const sink = await startSink(join(dir, "out.txt"), ep);
    await sink.waitFor(
      /results on tcp:\/\/127\.0\.0\.1:\d+, CURVE off .*peers from 127\.0\.0\.0\/8, ::1\/128 only/,
    );
    const sender = startSender(hosts, ep, ["--trust", "10.0.0.0/8,fd00::/8"]);
    await sender.waitFor(
      /tasks on tcp:\/\/127\.0\.0\.1:\d+, CURVE off .*peers from 10\.0\.0\.0\/8, fd00::\/8 only/,
    );
    await sender.waitFor(/without CURVE, any machine in 10\.0\.0\.0\/8, fd00::\/8 can take tasks/);
    const bad = startSender(hosts, await endpoints(), ["--trust", "10.0.0.0/33"]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--trust.*10\.0\.0\.0\/33/);
  }, 30_000);
});
