// The contract between the sink and the report: NDJSON written by @uptime/sink-store's own
// formatter (with bootedAt and bootPrecisionS) read back by this package.
import type { Result } from "@uptime/protocol";
import { formatResult } from "@uptime/sink-store";
import { describe, expect, it } from "vitest";
import { analyzeRuns } from "../src/analyze.js";
import { readRun } from "../src/read.js";

describe("the sink's NDJSON (bootedAt, bootPrecisionS) read by the report", () => {
  const T = Date.UTC(2026, 11, 1, 6, 0, 0);
  const result = (target: string, at: number, text: string, seconds: number): Result => ({
    v: 1,
    t: "result",
    job: "j",
    seq: 0,
    attempt: 1,
    target,
    worker: "w",
    slot: 0,
    durationMs: 5,
    at,
    ok: true,
    uptime: { raw: ` 06:00:00 up ${text},  load average: 0.00, 0.00, 0.00`, text, seconds },
  });
  const run = (name: string, results: Result[]) =>
    readRun(name, results.map((r) => formatResult(r, "ndjson")).join(""));

  it("an hours-only uptime that moved its computed boot time 59 minutes later is not a reboot", () => {
    const HOUR = 3600;
    // h: really up 2d 5h 00m, then 59 minutes later 2d 5h 59m, both shown as "2 days, 5 hrs".
    // r: rebooted in between, now "3 min".
    const first = run("first", [
      result("h", T, "2 days, 5 hrs", 2 * 86_400 + 5 * HOUR),
      result("r", T, "2 days, 5 hrs", 2 * 86_400 + 5 * HOUR),
    ]);
    const second = run("second", [
      result("h", T + 59 * 60_000, "2 days, 5 hrs", 2 * 86_400 + 5 * HOUR),
      result("r", T + 59 * 60_000, "3 min", 180),
    ]);
    expect(second.hosts.get("h")).toMatchObject({ bootPrecisionS: 3600 });
    expect((second.hosts.get("h")!.bootedAt! - first.hosts.get("h")!.bootedAt!) / 1000).toBe(59 * 60);
    const report = analyzeRuns([first, second]);
    expect(report.rebooted.map((x) => x.target)).toEqual(["r"]);
    expect(report.rebooted[0]!.toleranceS).toBe(3600 + 120);
  });
});
