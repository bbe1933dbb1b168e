import { describe, expect, it } from "vitest";
import { analyzeRuns } from "./analyze.js";
import { escapeHtml, HOST_FLAGS, hostTableData, renderHtml } from "./html.js";
import { readRun } from "./read.js";
import { safeText } from "./text.js";

const line = (target: string, at: number, seconds: number | null) =>
  JSON.stringify(
    seconds === null
      ? { target, ok: false, at, job: "j", error: { code: "AUTH", message: `<i>${target}</i>` } }
      : { target, ok: true, at, job: "j", uptime: { raw: "", text: "x", seconds } },
  );
const T = 1_700_000_000_000;

describe("renderHtml", () => {
  const evil = `</script><img src=x onerror=alert(1)>\u2028\u001b[2J`;
  const runs = [
    readRun("a", [line("b", T, 1000), line(evil, T, 100), line("gone", T, 5)].join("\n")),
    readRun("b", [line("b", T + 60_000, 10), line(evil, T + 60_000, null), line("a", T, 7)].join("\n")),
  ];
  const report = analyzeRuns(runs);

  it("escapes every host-controlled string, in markup and in the page's data", () => {
    const html = renderHtml(report, runs, { title: "<t>" });
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("\u2028");
    expect(html).not.toContain("\u001b");
    expect(html).toContain("<title>&lt;t&gt;</title>");
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(data).t).toContain(safeText(evil));
  });

  it("lists the newest run and the missing hosts in target order, with their flags", () => {
    const d = hostTableData(report, runs);
    expect(d.t).toEqual([safeText(evil), "a", "b", "gone"]);
    const flags = (i: number) => HOST_FLAGS.filter((_, b) => d.f[i]! & (1 << b));
    expect(flags(0)).toEqual(["failed", "newly-failing"]);
    expect(flags(1)).toEqual(["new"]);
    expect(flags(2)).toEqual(["rebooted"]);
    expect(flags(3)).toEqual(["missing"]);
    expect(d.statuses[d.s[3]!]).toBe("missing");
  });

  it("escapeHtml covers quotes and ampersands", () => {
    expect(escapeHtml(`a&b"c'd<e>`)).toBe("a&amp;b&quot;c&#39;d&lt;e&gt;");
  });
});
