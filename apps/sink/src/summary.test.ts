import { sampleResult } from "@uptime/test-utils";
import { describe, expect, it } from "vitest";
import { JobSummary } from "./summary.js";

describe("JobSummary", () => {
  it("counts errors by code, keeps the slowest, buckets uptimes", () => {
    const s = new JobSummary("j1");
    for (let i = 0; i < 20; i++) s.add(sampleResult(i, i % 5 !== 0));
    expect(s.ok).toBe(16);
    expect(s.failed).toBe(4);
    const text = s.format();
    expect(text).toContain("failed by error: DNS 4");
    expect(text).toContain("slowest: host19 0.02s");
    expect(text).toContain("uptime: 30-90 days: 16");
  });
});
