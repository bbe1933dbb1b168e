import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeRuns, type LineProblem, readJobRuns } from "../src/index.js";

const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const HOUR = 3_600_000;
let seq = 0;
const line = (job: string, target: string, at: number, uptimeS?: number) =>
  JSON.stringify({
    job,
    seq: seq++,
    target,
    at,
    ...(uptimeS === undefined
      ? { ok: false, error: { code: "CONNECT_TIMEOUT", message: "timed out" } }
      : {
          ok: true,
          uptime: { text: `${Math.floor(uptimeS / 60)} min`, seconds: uptimeS },
          bootPrecisionS: 60,
        }),
  });

describe("readJobRuns: one job of a long-lived record, with what came before it", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "uptime-job-runs-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("history (ok only), the previous job and the job; a reboot is found past a failed job", async () => {
    const file = join(dir, "record.ndjson");
    const lines = [
      // monday: a and b up 10 h; c up 1 h
      line("mon", "a", T0, 10 * 3600),
      line("mon", "b", T0, 10 * 3600),
      line("mon", "c", T0, 3600),
      // tuesday: a fails, b and c went on (not rebooted), d is new
      line("tue", "a", T0 + 24 * HOUR),
      line("tue", "b", T0 + 24 * HOUR, 34 * 3600),
      line("tue", "c", T0 + 24 * HOUR, 25 * 3600),
      "{not json",
      line("tue", "d", T0 + 24 * HOUR, 60),
      // wednesday: a back after a reboot, b rebooted, c not, d missing; a line of a later job
      line("wed", "a", T0 + 48 * HOUR, 3600),
      line("wed", "b", T0 + 48 * HOUR, 600),
      line("wed", "c", T0 + 48 * HOUR, 49 * 3600),
      line("thu", "c", T0 + 72 * HOUR, 60),
    ];
    await writeFile(file, `${lines.join("\n")}\n`);
    const problems: LineProblem[] = [];
    const runs = await readJobRuns(file, "wed", (p) => problems.push(p));
    expect(problems.map((p) => p.line)).toEqual([7]);
    expect(runs.map((r) => [...r.hosts.keys()].sort())).toEqual([
      ["a", "b", "c"],
      ["a", "b", "c", "d"],
      ["a", "b", "c"],
    ]);
    const report = analyzeRuns(runs);
    expect(report.rebooted.map((r) => r.target).sort()).toEqual(["a", "b"]);
    expect(report.recovered.map((r) => r.target)).toEqual(["a"]);
    expect(report.missing.map((m) => m.target)).toEqual(["d"]);

    const first = await readJobRuns(file, "mon");
    expect(first).toHaveLength(1);
    expect(analyzeRuns(first).compared).toBe(false);
    expect(await readJobRuns(file, "nope")).toHaveLength(1);
  });
});
