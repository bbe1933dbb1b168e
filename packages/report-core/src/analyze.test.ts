import { describe, expect, it } from "vitest";
import { analyzeRuns, countCategory, FAIL_IF_CATEGORIES } from "./analyze.js";
import { type LineProblem, parseResultLine, readRun } from "./read.js";
import { parseSpan } from "./span.js";
import type { Run } from "./types.js";

const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

let seq = 0;
/** A result line as `uptime-sink --format ndjson` writes it (optionally with bootedAt/bootPrecisionS). */
function ok(target: string, at: number, seconds: number, extra: Record<string, unknown> = {}): string {
  const minutes = Math.floor(seconds / 60);
  return JSON.stringify({
    job: "job1",
    seq: seq++,
    attempt: 1,
    target,
    worker: "w1",
    slot: 0,
    durationMs: 12.5,
    at,
    ok: true,
    uptime: {
      raw: ` 08:00:00 up ${minutes} min,  1 user,  load average: 0.00, 0.01, 0.05`,
      text: `${minutes} min`,
      seconds: minutes * 60,
      users: 1,
      load: [0, 0.01, 0.05],
    },
    ...extra,
  });
}
function failed(target: string, at: number, code: string, message = `${code} simulated`): string {
  return JSON.stringify({
    job: "job1",
    seq: seq++,
    attempt: 1,
    target,
    worker: "w1",
    slot: 0,
    durationMs: 3000,
    at,
    ok: false,
    error: { code, message },
  });
}
/** Uptime in seconds at `at` of a host that booted at `boot` (ms). */
const up = (boot: number, at: number) => (at - boot) / 1000;

// Three runs: a day apart, then a minute apart. Boot times (true, to the second):
const bootA = T0 - 40 * DAY; // steady all along
const bootB1 = T0 - 10 * DAY; // rebooted between run 1 and run 2
const bootB2 = T0 + DAY - 2 * 3600_000;
const bootC = T0 - 5 * DAY; // ok, ok, then failing
const bootD1 = T0 - 20 * DAY; // ok, failing, then ok again after a reboot
const bootD2 = T0 + DAY - 30 * MIN;
const bootE = T0 + DAY - 10 * MIN; // booted just before run 2: the minute-precision edge
const bootH = T0 - 100 * DAY; // over a 90-day policy

const at1 = T0;
const at2 = T0 + DAY;
const at3 = T0 + DAY + 119_000; // a minute or two later, as a rerun would be

function runs(): { runs: Run[]; problems: LineProblem[] } {
  const problems: LineProblem[] = [];
  const onProblem = (p: LineProblem) => problems.push(p);
  const run1 = [
    ok("a", at1, up(bootA, at1)),
    ok("b", at1, up(bootB1, at1)),
    ok("c", at1, up(bootC, at1)),
    ok("d", at1, up(bootD1, at1)),
    ok("f", at1, up(bootA, at1)),
    ok("h", at1, up(bootH, at1)),
  ];
  const run2 = [
    ok("a", at2, up(bootA, at2)),
    ok("b", at2, up(bootB2, at2)),
    ok("c", at2, up(bootC, at2)),
    failed("d", at2, "AUTH"),
    // The edge: true uptime 10m00s shows as "10 min"; at run 3 it is 11m59s and shows as "11 min",
    // so the computed boot time moves 59 s later without a reboot.
    ok("e", at2, up(bootE, at2)),
    ok("f", at2, up(bootA, at2)),
    ok("h", at2, up(bootH, at2)),
  ];
  const run3 = [
    "{ this is not json",
    ok("a", at3, up(bootA, at3)),
    // Two jobs in one file: an earlier failure and a later answer for b; the later one wins.
    failed("b", at3 - MIN, "CONNECT_TIMEOUT"),
    ok("b", at3, up(bootB2, at3)),
    failed("c", at3, "CONNECT_TIMEOUT"),
    ok("d", at3, up(bootD2, at3)),
    "",
    ok("e", at3, up(bootE, at3)),
    JSON.stringify({ target: "x", ok: true, at: "yesterday" }),
    ok("g", at3, up(bootA, at3)),
    ok("h", at3, up(bootH, at3)),
  ];
  return {
    runs: [
      readRun("run1.ndjson", run1.join("\n"), onProblem),
      readRun("run2.ndjson", `${run2.join("\n")}\n`, onProblem),
      readRun("run3.ndjson", run3.join("\n"), onProblem),
    ],
    problems,
  };
}

const names = (xs: { target: string }[]) => xs.map((x) => x.target);

describe("analyzeRuns over three simulated runs", () => {
  it("reads the runs, skipping malformed lines with their line numbers", () => {
    const { runs: r, problems } = runs();
    expect(r.map((x) => x.hosts.size)).toEqual([6, 7, 7]);
    expect(r[2]!.malformed).toBe(2);
    expect(problems).toEqual([
      { source: "run3.ndjson", line: 1, reason: "not JSON" },
      { source: "run3.ndjson", line: 9, reason: `"at" is not a time in epoch milliseconds` },
    ]);
    expect(r[2]!.hosts.get("b")!.ok).toBe(true);
  });

  it("run 2 against run 1: b rebooted, d newly failing, a/c/h not rebooted", () => {
    const { runs: r } = runs();
    const report = analyzeRuns(r.slice(0, 2), { maxUptimeS: parseSpan("90d")! });
    expect(names(report.rebooted)).toEqual(["b"]);
    expect(report.rebooted[0]!.toleranceS).toBe(180);
    expect(names(report.newlyFailing)).toEqual(["d"]);
    expect(names(report.recovered)).toEqual([]);
    expect(names(report.missing)).toEqual([]);
    expect(report.added).toBe(1);
    expect(names(report.overPolicy)).toEqual(["h"]);
    expect(report.summary).toMatchObject({ total: 7, ok: 6, failed: 1 });
    expect(report.summary.failuresByCode).toEqual([{ code: "AUTH", count: 1 }]);
  });

  it("run 3 against run 2, a minute later: nobody rebooted but d, whose boot is compared with run 1", () => {
    const { runs: r } = runs();
    const report = analyzeRuns(r, { maxUptimeS: 90 * 86_400 });
    // b rebooted before run 2, not since; e is the minute-precision edge; d failed in run 2.
    expect(names(report.rebooted)).toEqual(["d"]);
    expect(report.rebooted[0]!.previousAt).toBe(at1);
    expect(names(report.newlyFailing)).toEqual(["c"]);
    expect(names(report.recovered)).toEqual(["d"]);
    expect(report.recovered[0]!.previousCode).toBe("AUTH");
    expect(names(report.missing)).toEqual(["f"]);
    expect(report.added).toBe(1); // g
    expect(names(report.failed)).toEqual(["c"]);
    expect(names(report.overPolicy)).toEqual(["h"]);
    expect(report.summary).toMatchObject({ total: 7, ok: 6, failed: 1 });
    expect(report.summary.uptime.reduce((n, b) => n + b.count, 0)).toBe(6);
    expect(report.summary.uptime.find((b) => b.label === "< 1 day")!.count).toBe(3); // b, d, e
  });

  it("the minute-precision edge stays inside the tolerance even without any clock skew allowance", () => {
    const { runs: r } = runs();
    const e2 = r[1]!.hosts.get("e")!;
    const e3 = r[2]!.hosts.get("e")!;
    expect((e3.bootedAt! - e2.bootedAt!) / 1000).toBe(59);
    expect(names(analyzeRuns(r, { clockSkewS: 0 }).rebooted)).toEqual(["d"]);
  });

  it("uses bootedAt and bootPrecisionS when the results carry them", () => {
    const boot = T0 - 3 * DAY;
    const later = boot + 200_000; // boot time moved 200 s later
    const line = (at: number, b: number) =>
      ok("s", at, up(b, at), { bootedAt: new Date(b).toISOString(), bootPrecisionS: 1 });
    const run = (at: number, b: number) => readRun(`r${at}`, line(at, b));
    const two = [run(T0, boot), run(T0 + MIN, later)];
    expect(two[1]!.hosts.get("s")!.bootedAt).toBe(later);
    expect(names(analyzeRuns(two, { clockSkewS: 120 }).rebooted)).toEqual(["s"]); // 200 > 1 + 120
    expect(names(analyzeRuns(two, { clockSkewS: 199 }).rebooted)).toEqual([]); // 200 <= 1 + 199
  });

  it("counts every --fail-if category", () => {
    const { runs: r } = runs();
    const report = analyzeRuns(r, { maxUptimeS: 90 * 86_400 });
    expect(Object.fromEntries(FAIL_IF_CATEGORIES.map((c) => [c, countCategory(report, c)]))).toEqual({
      rebooted: 1,
      "over-policy": 1,
      failed: 1,
      "newly-failing": 1,
      missing: 1,
    });
  });

  it("one run: a summary, nothing compared", () => {
    const { runs: r } = runs();
    const report = analyzeRuns(r.slice(0, 1));
    expect(report.compared).toBe(false);
    expect(report.rebooted).toEqual([]);
    expect(report.summary.total).toBe(6);
  });
});

describe("parseResultLine", () => {
  it("falls back to at - uptime for the boot time, with minute precision", () => {
    const p = parseResultLine(ok("z", T0, 3600));
    expect(p).toMatchObject({ kind: "ok", host: { bootedAt: T0 - 3600_000, bootPrecisionS: 60 } });
  });
  it("refuses bad values with a reason", () => {
    expect(parseResultLine("[1]")).toEqual({ kind: "bad", reason: "not a JSON object" });
    expect(parseResultLine(JSON.stringify({ target: "a", ok: false, at: 1 }))).toMatchObject({
      kind: "bad",
      reason: "a failed result without error.code",
    });
    expect(parseResultLine(ok("a", T0, 60, { bootedAt: "soon" }))).toMatchObject({
      kind: "bad",
      reason: "bootedAt is not an ISO 8601 time",
    });
  });
});

describe("parseSpan", () => {
  it("reads s, m, h, d, w and plain seconds", () => {
    expect(["90d", "12h", "30m", "45s", "2w", "300", "1.5d"].map(parseSpan)).toEqual([
      7_776_000, 43_200, 1800, 45, 1_209_600, 300, 129_600,
    ]);
    expect(parseSpan("ninety days")).toBeUndefined();
  });
});
