import { join } from "node:path";
import { expectedUptime, rebootedIn } from "@uptime/test-fleet";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  freePort,
  readFile,
  runApp,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
} from "./harness.js";

interface Line {
  job: string;
  target: string;
  ok: boolean;
  uptime?: { seconds: number };
}

/** The number in the page's `count-ID` card. */
const card = (html: string, id: string) => Number(new RegExp(`id="count-${id}">(\\d+)<`).exec(html)?.[1]);

describe("uptime-sink --report: the report page at the end of each job", () => {
  it("is rewritten for each job, compares it with the one before, and counts what the record holds", async () => {
    const fleet = await startFleet(30, ["--fail-rate", "0.2"]);
    const ep = await endpoints();
    const dir = await tempDir();
    const record = join(dir, "record.ndjson");
    const html = join(dir, "report.html");
    const sink = await startSink(join(dir, "out.txt"), ep, [
      "--record",
      record,
      "--report",
      html,
      "--max-uptime",
      "1d",
    ]);
    startWorker("w1", 8, ep, fleet);
    for (const job of ["monday", "tuesday"]) {
      const sender = startSender(fleet.inventory, ep, ["--job", job, "--progress", "off"]);
      expect(await sender.exited, sender.stderr()).toBe(0);
      await sink.waitFor(new RegExp(`report of job ${job} written to`));
    }
    const lines = (await readFile(record, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const tuesday = lines.filter((l) => l.job === "tuesday");
    const failed = tuesday.filter((l) => !l.ok).length;
    const over = tuesday.filter((l) => l.ok && (l.uptime?.seconds ?? 0) > 86_400).length;
    expect(failed).toBeGreaterThan(0);
    const page = await readFile(html, "utf8");
    expect(page).toContain("uptime report: job tuesday");
    expect(card(page, "total")).toBe(30);
    expect(card(page, "failed")).toBe(failed);
    expect(card(page, "over-policy")).toBe(over);
    // Compared with monday: the first job's line has no comparison, the second's has.
    expect(sink.stderr()).toMatch(
      /report of job monday written to .*\(30 hosts, \d+ failed, \d+ over policy\)/,
    );
    expect(sink.stderr()).toMatch(
      new RegExp(
        `report of job tuesday written to .*\\(30 hosts, ${failed} failed, 0 rebooted, \\d+ newly failing, ${over} over policy\\)`,
      ),
    );
  }, 120_000);

  it("refuses --report without an NDJSON history, and a bad --max-uptime, as usage errors", async () => {
    const dir = await tempDir();
    const noRecord = runApp(BIN.sink, [join(dir, "out.txt"), "--report", join(dir, "r.html")]);
    expect(await noRecord.exited).toBe(2);
    expect(noRecord.stderr()).toMatch(/--report reads the NDJSON history: give --record FILE/);
    const badSpan = runApp(BIN.sink, [
      "--record",
      join(dir, "r.ndjson"),
      "--report",
      join(dir, "r.html"),
      "--max-uptime",
      "soon",
    ]);
    expect(await badSpan.exited).toBe(2);
    expect(badSpan.stderr()).toMatch(/--max-uptime must be a span like 90d/);
  });

  it("finds the hosts a fleet rebooted between two jobs, and no others", async () => {
    // The same 200 hosts (fixed addresses and port) served again after one reboot round of the fleet.
    const port = await freePort();
    const fleetArgs = ["--first-address", "127.82.0.1", "--port", String(port)];
    const before = await startFleet(200, fleetArgs);
    const ep = await endpoints();
    const dir = await tempDir();
    const record = join(dir, "record.ndjson");
    const html = join(dir, "report.html");
    const sink = await startSink(join(dir, "out.txt"), ep, ["--record", record, "--report", html]);
    const worker = startWorker("w1", 50, ep, before);
    const first = startSender(before.inventory, ep, ["--job", "before", "--progress", "off"]);
    expect(await first.exited, first.stderr()).toBe(0);
    await sink.waitFor(/report of job before written/);
    before.app.child.kill("SIGTERM");
    await before.app.exited;
    const after = await startFleet(200, [...fleetArgs, "--reboots", "1", "--client-key", before.identity]);
    expect(after.targets).toEqual(before.targets);
    const second = startSender(after.inventory, ep, ["--job", "after", "--progress", "off"]);
    expect(await second.exited, second.stderr()).toBe(0);
    await sink.waitFor(/report of job after written/);
    worker.child.kill("SIGTERM");

    // Rebooted for sure: hosts of the reboot round whose uptime fell by more than an hour; never
    // rebooted: hosts outside the round (their answer did not change).
    const sure = new Set<string>();
    const never = new Set<string>();
    for (const [i, target] of before.targets.entries()) {
      if (rebootedIn(i, 1) === 0) never.add(target);
      else if (expectedUptime(i, 0).seconds - expectedUptime(i, 1).seconds > 3600) sure.add(target);
    }
    expect(sure.size).toBeGreaterThan(0);
    const page = await readFile(html, "utf8");
    const rebooted = Number(/id="count-rebooted">(\d+)</.exec(page)?.[1]);
    expect(rebooted).toBeGreaterThanOrEqual(sure.size);
    expect(rebooted).toBeLessThanOrEqual(200 - never.size);
    // The page's rebooted table lists every sure one, and only hosts of the reboot round.
    const table = page.slice(page.indexOf("Rebooted since the previous run"), page.indexOf("Newly failing"));
    const listed = table.match(/fleet@127\.82\.\d+\.\d+:\d+/g) ?? [];
    expect(listed.length).toBe(rebooted);
    for (const t of sure) expect(listed, t).toContain(t);
    for (const t of listed) expect(never.has(t), t).toBe(false);
    expect(sink.stderr()).toMatch(
      new RegExp(
        `report of job after written to .*\\(200 hosts, 0 failed, ${rebooted} rebooted, 0 newly failing\\)`,
      ),
    );
  }, 120_000);
});
