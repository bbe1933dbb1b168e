import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
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
});
