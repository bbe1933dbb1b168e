// Debian's chromium, driven by playwright-core: for the HTML report's test, its benchmark and the
// README screenshot. No browser is downloaded; a missing /usr/bin/chromium is an error, not a skip.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.UPTIME_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches headless Chromium. Playwright's launch() gives every browser a fresh temporary
 * user-data dir and removes it on close().
 */
export async function launchChromium() {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * Opens `file` in a new page, collecting console errors and page errors; resolves when the
 * report's script has rendered (body[data-ready]).
 */
export async function openReport(browser, file, { width = 1280, height = 900 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(`file://${file}`);
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  return { page, errors, readyMs: Date.now() - started };
}
