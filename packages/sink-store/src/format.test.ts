import type { Result } from "@uptime/protocol";
import { describe, expect, it } from "vitest";
import { bootTime, CSV_HEADER, formatResult, uptimePrecision } from "./format.js";

const AT = Date.parse("2026-12-02T03:00:00.000Z");

function ok(text: string, seconds: number, extra: Partial<Result> = {}): Result {
  return {
    v: 1,
    t: "result",
    job: "j1",
    seq: 1,
    attempt: 1,
    target: "web1",
    worker: "w1",
    slot: 3,
    durationMs: 12.34,
    at: AT,
    ok: true,
    uptime: { raw: `up ${text}`, text, seconds },
    ...extra,
  } as Result;
}

function failed(code: string, message: string, extra: Partial<Result> = {}): Result {
  return {
    v: 1,
    t: "result",
    job: "j1",
    seq: 2,
    attempt: 1,
    target: "db1",
    worker: "w1",
    slot: 0,
    durationMs: 1,
    at: AT,
    ok: false,
    error: { code, message },
    ...extra,
  } as Result;
}

/** C0, DEL, C1, line separators, bidi controls. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = [
  "\u001b]52;c;ZXZpbA==\u0007",
  "\u001b[2J\u001b[Hcleared",
  "nul\u0000bel\u0007cr\rdel\u007f",
  "line\nworker_id: w9_1, host: 10.9.9.9, result: 999 days",
  'quote" , host: 10.9.9.9, result: 999 days',
  "\u202eevil\u2028\u0085\u009b31m",
  "lone \udc9f byte",
];

describe("formatResult with host-controlled text", () => {
  it.each(HOSTILE)("no raw control, one line, the right host: %j", (message) => {
    const results = [
      failed("EXIT_STATUS", message),
      failed(message, "code forged"),
      failed("CLOSED", "x", { worker: message } as Partial<Result>),
      ok(message, 60),
    ];
    for (const r of results) {
      for (const format of ["text", "csv", "ndjson"] as const) {
        const line = formatResult(r, format);
        expect(line.endsWith("\n")).toBe(true);
        const body = line.slice(0, -1);
        expect(body).not.toMatch(RAW);
        expect(body).not.toContain("\n");
        if (format === "ndjson") expect(JSON.parse(body).target).toBe(r.target);
      }
      const text = formatResult(r, "text");
      // The first host field is the result's; any other "host: " sits inside a quoted string.
      expect(/^worker_id: (?:[^\s,"\\]+|"(?:[^"\\]|\\.)*"), host: ([^\s,"\\]+), /.exec(text)?.[1]).toBe(
        r.target,
      );
      const unquoted = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      expect(unquoted.match(/host: /g)).toHaveLength(1);
    }
  });

  it("NDJSON strips nothing: the message parses back exactly", () => {
    for (const m of HOSTILE) {
      expect(JSON.parse(formatResult(failed("EXIT_STATUS", m), "ndjson")).error.message).toBe(m);
    }
  });

  it("text keeps the original's ok line and quotes error messages", () => {
    expect(formatResult(ok("65 days, 17:07", 5_677_620), "text")).toBe(
      "worker_id: w1_3, host: web1, result: 65 days, 17:07\n",
    );
    expect(formatResult(failed("EXIT_STATUS", 'exit 1: "no"\\n'), "text")).toBe(
      'worker_id: w1_0, host: db1, error: EXIT_STATUS "exit 1: \\"no\\"\\\\n"\n',
    );
  });
});

describe("bootedAt and bootPrecisionS", () => {
  it.each([
    ["65 days, 17:07", 60],
    ["3 min", 60],
    ["25 min(s)", 60],
    ["42 secs", 1],
    ["2 days, 5 hrs", 3600],
    ["1 day(s), 2 hr(s)", 3600],
    ["12 days", 86_400],
  ])("%s has a precision of %d s", (text, precision) => {
    expect(uptimePrecision(text)).toBe(precision);
  });

  it("every ok result in NDJSON and CSV carries them; errors do not", () => {
    const r = ok("65 days, 17:07", 5_677_620);
    expect(bootTime(r)).toEqual({ bootedAt: "2026-09-27T09:53:00.000Z", bootPrecisionS: 60 });
    expect(JSON.parse(formatResult(r, "ndjson"))).toMatchObject({
      at: AT,
      bootedAt: "2026-09-27T09:53:00.000Z",
      bootPrecisionS: 60,
    });
    const header = CSV_HEADER.trimEnd().split(",");
    const row = formatResult(r, "csv").trimEnd().split(",");
    // the uptime text "65 days, 17:07" is one quoted cell
    const cells =
      formatResult(r, "csv")
        .trimEnd()
        .match(/("(?:[^"]|"")*"|[^,]*)(,|$)/g) ?? [];
    expect(cells.length - 1).toBe(header.length);
    expect(row.at(-2)).toBe("2026-09-27T09:53:00.000Z");
    expect(row.at(-1)).toBe("60");
    const bad = JSON.parse(formatResult(failed("DNS", "x"), "ndjson"));
    expect(bad.bootedAt).toBeUndefined();
    expect(formatResult(failed("DNS", "x"), "csv").trimEnd().endsWith(",,")).toBe(true);
  });
});
