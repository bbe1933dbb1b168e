// pnpm bench:report: uptime-report on generated NDJSON (default 100,000 hosts x 2 runs): CPU time and
// peak RSS of the process, the HTML file's size, and in Debian's headless Chromium the time until the
// page is interactive and how long searching, sorting and scrolling the host table take.
// Options: --hosts N (100000), --json FILE (also write the figures there)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium, openReport } from "../scripts/chromium.mjs";
import { bins } from "../scripts/pipeline.mjs";
import { writeRuns } from "./report-fixture.mjs";

const { values } = parseArgs({
  options: { hosts: { type: "string", default: "100000" }, json: { type: "string" } },
});
const hosts = Number(values.hosts);
const dir = mkdtempSync(join(tmpdir(), "report-bench-"));
const figures = { hosts, runs: 2 };
try {
  const { files } = writeRuns(dir, hosts);
  figures.ndjsonMiB = +(files.reduce((n, f) => n + statSync(f).size, 0) / 2 ** 20).toFixed(1);
  const html = join(dir, "report.html");
  const usage = join(dir, "usage.ndjson");
  const started = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [bins.report, ...files, "--max-uptime", "90d", "--html", html, "-q"],
    {
      env: { ...process.env, UPTIME_USAGE_FILE: usage },
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`uptime-report exited ${r.status}: ${r.stderr}`);
  const u = JSON.parse(readFileSync(usage, "utf8").trim().split("\n").at(-1));
  figures.reportWallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  figures.reportCpuMs = Math.round(u.userMs + u.systemMs);
  figures.reportPeakRssMiB = +(u.maxRssKiB / 1024).toFixed(0);
  figures.htmlMiB = +(statSync(html).size / 2 ** 20).toFixed(2);

  const browser = await launchChromium();
  try {
    const { page, errors, readyMs } = await openReport(browser, html);
    if (errors.length) throw new Error(`console errors: ${errors.join("; ")}`);
    figures.pageInteractiveMs = Number(await page.getAttribute("body", "data-ready-ms"));
    figures.pageLoadWallMs = readyMs;
    // Where the time goes: the HTML parsed (domInteractive includes running the inline script), the
    // script alone (JSON.parse of the data and the first render).
    figures.pageScriptMs = Number(await page.getAttribute("body", "data-script-ms"));
    figures.pageDomInteractiveMs = Math.round(
      await page.evaluate(() => performance.getEntriesByType("navigation")[0].domInteractive),
    );
    // Each action runs synchronously in its event handler; "painted" includes the next two frames.
    const timed = (action, arg) =>
      page.evaluate(
        ([action, arg]) =>
          new Promise((resolve) => {
            const t0 = performance.now();
            if (action === "search") {
              const i = document.getElementById("hosts-search");
              i.value = arg;
              i.dispatchEvent(new Event("input"));
            } else if (action === "sort") {
              document.querySelector(`.head button[data-key="${arg}"]`).click();
            } else {
              const el = document.getElementById("hosts-scroll");
              el.scrollTop = arg * el.scrollHeight;
            }
            const sync = performance.now() - t0;
            requestAnimationFrame(() =>
              requestAnimationFrame(() => resolve({ sync, painted: performance.now() - t0 })),
            );
          }),
        [action, arg],
      );
    const round = (x) => ({ syncMs: +x.sync.toFixed(1), paintedMs: +x.painted.toFixed(1) });
    figures.searchFirst = round(await timed("search", "host4"));
    figures.searchNarrow = round(await timed("search", "host12345"));
    figures.searchClear = round(await timed("search", ""));
    figures.sortUptime = round(await timed("sort", "uptime"));
    figures.sortTarget = round(await timed("sort", "target"));
    const steps = [];
    for (let k = 1; k <= 20; k++) steps.push((await timed("scroll", k * 0.05)).painted);
    figures.scrollStepMs = {
      mean: +(steps.reduce((a, b) => a + b, 0) / steps.length).toFixed(1),
      max: +Math.max(...steps).toFixed(1),
    };
    figures.domRows = await page.locator("#hosts-window .row").count();
    // Opened again in the same browser: without the first page's process start-up.
    const again = await openReport(browser, html);
    figures.pageInteractiveAgainMs = Number(await again.page.getAttribute("body", "data-ready-ms"));
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(figures, null, 2));
if (values.json) writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
