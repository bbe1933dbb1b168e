import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  freePort,
  runApp,
  startFleet,
  startSink,
  startWorker,
  tempDir,
  writeFile,
} from "./harness.js";

interface Line {
  job: string;
  seq: number;
  target: string;
  ok: boolean;
  error?: { code: string };
}

async function ndjson(file: string): Promise<Line[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

/** Waits until `file` has at least `n` lines (the sink writes whole lines only). */
async function untilLines(file: string, n: number, exited: Promise<number>): Promise<number> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (;;) {
    const lines = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
    if (lines >= n || done) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("uptime-sender host lists: ranges, groups, -w/-x, duplicates, --rerun-failed", () => {
  it("probes a range and a group once each host, leaves -x out, reruns only the failed hosts", async () => {
    const port = await freePort();
    const fleet = await startFleet(6, [
      "--first-address",
      "127.81.0.1",
      "--port",
      String(port),
      "--behaviours",
      "1:auth-reject,4:exit-status",
    ]);
    const dir = await tempDir();
    const groups = join(dir, "groups.cfg");
    await writeFile(
      groups,
      `# lab\nfront: fleet@127.81.0.[1-3]:${port}\nall: @front fleet@127.81.0.[4-6]:${port}\n`,
    );
    const hosts = join(dir, "hosts.txt");
    const long = `h${"x".repeat(4999)}`;
    await writeFile(
      hosts,
      `@all\r\nfleet@127.81.0.[01-3]:${port}\rbad[5-1]\r\n${long}\nnul\u0000\u001b[2J\n`,
    );
    const out = join(dir, "out.ndjson");
    const ep = await endpoints();
    await startSink(out, ep, ["--format", "ndjson"]);
    startWorker("w1", 4, ep, fleet);
    const env = { XDG_STATE_HOME: dir };
    const args = ["--bind", ep.tasks, "--groups-file", groups, "--progress", "off"];
    const first = runApp(
      BIN.sender,
      [hosts, "-w", `fleet@127.81.0.2:${port}`, "-x", "127.81.0.6", ...args],
      env,
    );
    expect(await first.exited, first.stderr()).toBe(0);
    // hosts.txt:2 is "01-3" padded differently: a bad line like hosts.txt:3; @all gives 6, -w repeats .2, -x drops .6
    expect(first.stderr()).toMatch(new RegExp(`${hosts}:2: .*padded differently`));
    expect(first.stderr()).toMatch(new RegExp(`${hosts}:3: .*5 is above 1`));
    // a 5,000-character host name is one bad line (not a job the dispatcher rejects), bad bytes escaped
    expect(first.stderr()).toMatch(new RegExp(`${hosts}:4: target is 5,000 characters long`));
    expect(first.stderr()).toMatch(new RegExp(`${hosts}:5: .*control character: "nul\\\\x00\\\\x1b\\[2J"`));
    expect(first.stderr()).not.toMatch(/[\u0000\u001b\r]/);
    expect(first.stderr()).toMatch(/5 hosts \(4 bad lines skipped, 1 duplicate merged, 1 excluded\)/);
    expect(first.stderr()).toMatch(/1 duplicate merged/);
    const results = await ndjson(out);
    expect(results.map((r) => r.target).sort()).toEqual(fleet.targets.slice(0, 5).sort());
    const failed = results.filter((r) => !r.ok).map((r) => r.target);
    expect(failed.sort()).toEqual([fleet.targets[1], fleet.targets[4]].sort());

    // Rerun the failed ones only, then only those with one code.
    const rerun = runApp(BIN.sender, ["--rerun-failed", out, ...args], env);
    expect(await rerun.exited, rerun.stderr()).toBe(0);
    expect(rerun.stderr()).toMatch(/2 hosts failed in/);
    const after = await ndjson(out);
    expect(
      after
        .slice(results.length)
        .map((r) => r.target)
        .sort(),
    ).toEqual(failed.sort());
    const authOnly = runApp(BIN.sender, ["--rerun-failed", out, "--codes", "AUTH", ...args], env);
    expect(await authOnly.exited, authOnly.stderr()).toBe(0);
    const last = await ndjson(out);
    expect(last.slice(after.length).map((r) => r.target)).toEqual([fleet.targets[1]]);
  }, 90_000);

  it("-w with a number is refused, since -w names hosts now", async () => {
    const app = runApp(BIN.sender, ["-w", "500"]);
    expect(await app.exited).toBe(2);
    expect(app.stderr()).toMatch(/--watermark 500/);
  });
});

describe("uptime-sender --resume after kill -9", () => {
  it("continues the same job: every host exactly once in the sink's file across both runs", async () => {
    const total = 400;
    const fleet = await startFleet(total, ["--latency", "15"]);
    const dir = await tempDir();
    const out = join(dir, "out.ndjson");
    const ep = await endpoints();
    await startSink(out, ep, ["--format", "ndjson"]);
    startWorker("w1", 8, ep, fleet);
    const env = { XDG_STATE_HOME: dir };
    const args = [fleet.inventory, "--bind", ep.tasks, "--progress", "off"];
    const first = runApp(BIN.sender, args, env);
    const at = await untilLines(out, Math.round(total * 0.4), first.exited);
    expect(at, "the first sender finished before it could be killed").toBeLessThan(total);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe(137);
    const storedAtKill = (await ndjson(out)).length;

    // A second sender for the same job id without --resume is refused when the id is reused.
    const jobId = (await ndjson(out))[0]!.job;
    const reuse = runApp(BIN.sender, [...args, "--job", jobId], env);
    expect(await reuse.exited).toBe(2);
    expect(reuse.stderr()).toMatch(/already has .* stored results.*--resume/);

    const second = runApp(BIN.sender, [...args, "--resume"], env);
    expect(await second.exited, second.stderr()).toBe(0);
    const m = /resuming job (\S+): (\d+) hosts? of (\d+) stored before/.exec(second.stderr());
    expect(m, second.stderr()).not.toBeNull();
    expect(m![1]).toBe(jobId);
    expect(Number(m![2])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeLessThanOrEqual(storedAtKill);
    const lines = await ndjson(out);
    expect(new Set(lines.map((l) => l.job))).toEqual(new Set([jobId]));
    expect(lines).toHaveLength(total);
    expect(lines.map((l) => l.target).sort()).toEqual([...fleet.targets].sort());
    expect(new Set(lines.map((l) => l.seq)).size).toBe(total);
    // A finished job leaves no state behind (nor a lock).
    expect(await readdir(join(dir, "uptime-sender"))).toEqual([]);
  }, 120_000);
});
