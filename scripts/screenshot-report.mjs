// node scripts/screenshot-report.mjs REPORT.html OUT.png [--width 1200] [--height 1500]
// A PNG of an uptime-report HTML page, taken in Debian's headless Chromium (docs/report.png).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { launchChromium, openReport } from "./chromium.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { width: { type: "string", default: "1200" }, height: { type: "string", default: "1500" } },
});
if (positionals.length !== 2) {
  console.error("usage: node scripts/screenshot-report.mjs REPORT.html OUT.png [--width W] [--height H]");
  process.exit(2);
}
const browser = await launchChromium();
try {
  const { page, errors } = await openReport(browser, resolve(positionals[0]), {
    width: Number(values.width),
    height: Number(values.height),
  });
  if (errors.length) throw new Error(`console errors: ${errors.join("; ")}`);
  await page.screenshot({ path: positionals[1] });
  console.error(`screenshot: ${positionals[1]}`);
} finally {
  await browser.close();
}
