/// <reference lib="dom" />
// page.evaluate callbacks run in the browser.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { writeRuns } from "../../bench/report-fixture.mjs";
import { launchChromium, openReport } from "../../scripts/chromium.mjs";
import { runApp, tempDir } from "./harness.js";

const REPORT = fileURLToPath(new URL("../../apps/report/bin/uptime-report.js", import.meta.url));
const HOSTS = 5000;

/** Host names with markup and script in some of them: the page must show them as text. */
const nameOf = (i: number) =>
  i % 1000 === 5
    ? `<img src=x onerror="window.__pwned=${i}">web${i}`
    : i % 1000 === 9
      ? `</script><script>window.__pwned=${i}</script>web${i}`
      : `host${i}.dc1.example`;

interface Line {
  target: string;
  ok: boolean;
  uptime?: { seconds: number };
  error?: { code: string; message: string };
}
const parseLines = async (file: string) =>
  (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
const visibleTargets = (page: Page) =>
  page.$$eval("#hosts-window .row:not([hidden])", (rows) =>
    rows.map((r) => r.children[0]?.textContent ?? ""),
  );

describe("the HTML report in headless Chromium", () => {
  it("loads without errors; counts, charts, search, filter, sort and scrolling match the data", async () => {
    const dir = await tempDir("report-html-");
    const { files, expected } = writeRuns(dir, HOSTS, { name: nameOf });
    const html = join(dir, "report.html");
    const app = runApp(REPORT, [...files, "--max-uptime", "90d", "--html", html, "--json"]);
    expect(await app.exited, app.stderr()).toBe(0);
    const report = JSON.parse(app.stdout()) as {
      summary: {
        total: number;
        ok: number;
        failed: number;
        failuresByCode: { code: string; count: number }[];
        uptime: { label: string; count: number }[];
      };
      rebooted: unknown[];
      newlyFailing: unknown[];
      recovered: unknown[];
      missing: { target: string }[];
      overPolicy: unknown[];
    };
    // Every row of the host table, computed from the files: the newest run plus the missing hosts.
    const newest = await parseLines(files[1]);
    const rows = [...newest.map((l) => l.target), ...report.missing.map((m) => m.target)];
    const uptimeOf = new Map(newest.map((l) => [l.target, l.uptime?.seconds ?? -1]));

    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const { page, errors } = await openReport(browser, html);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("script").count()).toBe(2);

    const counts = {
      total: report.summary.total,
      ok: report.summary.ok,
      failed: report.summary.failed,
      rebooted: report.rebooted.length,
      "newly-failing": report.newlyFailing.length,
      recovered: report.recovered.length,
      missing: report.missing.length,
      "over-policy": report.overPolicy.length,
    };
    // The generator's own counts (from each host's fate), independent of the report's code.
    expect(counts).toMatchObject({
      ok: expected.ok,
      failed: expected.failed,
      rebooted: expected.rebooted,
      "newly-failing": expected.newlyFailing,
      recovered: expected.recovered,
      missing: expected.missing,
    });
    expect(counts.rebooted).toBeGreaterThan(0);
    for (const [id, n] of Object.entries(counts))
      expect(await text(page, `#count-${id}`), id).toBe(String(n));
    const bars = await page.$$eval("svg .bar", (gs) => gs.map((g) => Number(g.getAttribute("data-count"))));
    expect(bars).toEqual(report.summary.uptime.map((b) => b.count));
    const codes = await page.$$eval("svg .code", (gs) =>
      gs.map((g) => ({ code: g.getAttribute("data-code"), count: Number(g.getAttribute("data-count")) })),
    );
    expect(codes).toEqual(report.summary.failuresByCode);
    expect(await text(page, "#rebooted-count")).toBe(String(counts.rebooted));
    expect(await text(page, "#newly-failing-count")).toBe(String(counts["newly-failing"]));
    expect(await text(page, "#hosts-total")).toBe(String(rows.length));

    // Only the rows in view are in the DOM; host names with markup are shown as text.
    expect(await page.locator("#hosts-window .row").count()).toBeLessThan(100);
    await page.fill("#hosts-search", "onerror");
    expect(await visibleTargets(page)).toEqual(rows.filter((t) => t.includes("onerror")).sort());

    // Search: the shown count and the rows equal those computed from the data.
    await page.fill("#hosts-search", "HOST12");
    const matching = rows.filter((t) => t.toLowerCase().includes("host12"));
    expect(await text(page, "#hosts-shown")).toBe(String(matching.length));
    const shown = await visibleTargets(page);
    expect(shown.length).toBeGreaterThan(5);
    for (const t of shown) expect(t.toLowerCase()).toContain("host12");
    const timeouts = report.summary.failuresByCode.find((c) => c.code === "CONNECT_TIMEOUT")!.count;
    await page.fill("#hosts-search", "connect_timeout");
    expect(await text(page, "#hosts-shown")).toBe(String(timeouts));

    // Filter by change.
    await page.fill("#hosts-search", "");
    await page.selectOption("#hosts-filter", "rebooted");
    expect(await text(page, "#hosts-shown")).toBe(String(counts.rebooted));
    await page.selectOption("#hosts-filter", "missing");
    expect(await visibleTargets(page)).toEqual(report.missing.map((m) => m.target).sort());
    await page.selectOption("#hosts-filter", "");
    expect(await text(page, "#hosts-shown")).toBe(String(rows.length));

    // Sort by uptime, ascending then descending.
    const up = page.locator('.head button[data-key="uptime"]');
    await up.click();
    expect(await up.getAttribute("aria-sort")).toBe("ascending");
    const asc = (await visibleTargets(page)).map((t) => uptimeOf.get(t) ?? -1);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    await up.click();
    expect(await up.getAttribute("aria-sort")).toBe("descending");
    const desc = (await visibleTargets(page)).map((t) => uptimeOf.get(t) ?? -1);
    expect(desc[0]).toBe(Math.max(...uptimeOf.values()));
    expect(desc).toEqual([...desc].sort((a, b) => b - a));

    // Sort by host descending, then scroll to the end: the last row is the smallest name.
    const host = page.locator('.head button[data-key="target"]');
    await host.click();
    await host.click();
    expect(await host.getAttribute("aria-sort")).toBe("descending");
    const sorted = [...rows].sort().reverse();
    expect((await visibleTargets(page))[0]).toBe(sorted[0]);
    await page.$eval("#hosts-scroll", (el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction(
      (last) => {
        const rs = Array.from(document.querySelectorAll("#hosts-window .row:not([hidden])"));
        return rs.at(-1)?.children[0]?.textContent === last;
      },
      sorted.at(-1),
      { timeout: 5000 },
    );
    expect(errors).toEqual([]);
  }, 120_000);
});
