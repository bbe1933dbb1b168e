import type { Result } from "@uptime/protocol";
import { describe, expect, it } from "vitest";
import { JobSummary } from "./summary.js";

function result(seq: number, ok: boolean): Result {
  const base = {
    v: 1 as const,
    t: "result" as const,
    job: "j1",
    seq,
    attempt: 1,
    target: `host${seq}`,
    worker: "worker1",
    slot: seq % 4,
    durationMs: seq,
    at: 0,
  };
  return ok
    ? {
        ...base,
        ok: true,
        uptime: {
          raw: "up 65 days, 17:07",
          text: "65 days, 17:07",
          seconds: 65 * 86400 + 17 * 3600 + 7 * 60,
        },
      }
    : { ...base, ok: false, error: { code: "DNS", message: "getaddrinfo ENOTFOUND bzz" } };
}

describe("JobSummary", () => {
  it("counts errors by code, keeps the slowest, buckets uptimes", () => {
    const s = new JobSummary("j1");
    for (let i = 0; i < 20; i++) s.add(result(i, i % 5 !== 0));
    expect(s.ok).toBe(16);
    expect(s.failed).toBe(4);
    const text = s.format();
    expect(text).toContain("failed by error: DNS 4");
    expect(text).toContain("slowest: host19 0.02s");
    expect(text).toContain("uptime: 30-90 days: 16");
  });
});
