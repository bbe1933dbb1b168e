import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { writeRuns } from "../../bench/report-fixture.mjs";
import { runApp, tempDir } from "./harness.js";

const REPORT = fileURLToPath(new URL("../../apps/report/bin/uptime-report.js", import.meta.url));

async function report(args: string[]) {
  const app = runApp(REPORT, args);
  const code = await app.exited;
  return { code, stdout: app.stdout(), stderr: app.stderr() };
}

interface JsonReport {
  summary: { total: number; ok: number; failed: number; failuresByCode: { code: string; count: number }[] };
  rebooted: { target: string }[];
  newlyFailing: { target: string }[];
  recovered: { target: string }[];
  missing: { target: string }[];
  failed: { target: string }[];
  overPolicy: { target: string }[];
}

describe("uptime-report as a process", () => {
  it("summarises two runs as JSON, counts as the fixture predicts", async () => {
    const dir = await tempDir("report-e2e-");
    const { files, expected } = writeRuns(dir, 2000);
    const r = await report([...files, "--json", "--max-uptime", "90d"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as JsonReport;
    expect(j.summary.ok).toBe(expected.ok);
    expect(j.summary.failed).toBe(expected.failed);
    expect(j.rebooted.length).toBe(expected.rebooted);
    expect(j.newlyFailing.length).toBe(expected.newlyFailing);
    expect(j.recovered.length).toBe(expected.recovered);
    expect(j.missing.length).toBe(expected.missing);
    expect(j.overPolicy.length).toBeGreaterThan(0);
  });

  it("skips malformed lines with file:LINE: warnings and keeps the rest", async () => {
    const dir = await tempDir("report-e2e-");
    const { files, expected } = writeRuns(dir, 300);
    await appendFile(files[1], '{"target":"x","ok":true}\nnot json at all\n');
    const r = await report([...files, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(files[1], "utf8")).trimEnd().split("\n").length;
    expect(r.stderr).toContain(`${files[1]}:${lines - 1}: "at" is not a time in epoch milliseconds`);
    expect(r.stderr).toContain(`${files[1]}:${lines}: not JSON`);
    expect((JSON.parse(r.stdout) as JsonReport).summary.ok).toBe(expected.ok);
  });

  it("--fail-if exits 1 only when a named category has hosts", async () => {
    const dir = await tempDir("report-e2e-");
    const { files } = writeRuns(dir, 500);
    const hit = await report([...files, "--fail-if", "rebooted,missing", "-q"]);
    expect(hit.code).toBe(1);
    expect(hit.stderr).toMatch(/--fail-if: rebooted \d+, missing 1/);
    // The same file twice: nothing rebooted, missing or newly failing.
    const same = await report([files[1], files[1], "--fail-if", "rebooted,missing,newly-failing"]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain("rebooted: 0");
    const policy = await report([files[1], "--fail-if", "over-policy", "--max-uptime", "10000d"]);
    expect(policy.code).toBe(0);
    const failed = await report([files[1], "--fail-if", "failed"]);
    expect(failed.code).toBe(1);
  });

  it("exits 2 for usage errors and unreadable files", async () => {
    const dir = await tempDir("report-e2e-");
    const { files } = writeRuns(dir, 10);
    const cases = [
      [],
      [files[0], "--fail-if", "rebooted,sometimes"],
      [files[0], "--fail-if", "over-policy"],
      [files[0], "--max-uptime", "ninety"],
      [files[0], join(dir, "nope.ndjson")],
    ];
    for (const args of cases) {
      const r = await report(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/uptime-report|--/);
    }
    expect((await report([files[0], join(dir, "nope.ndjson")])).stderr).toContain("nope.ndjson: ENOENT");
    const help = await report(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1");
  });

  it("prints no raw control bytes from host-controlled strings, and escapes them in the HTML", async () => {
    const dir = await tempDir("report-e2e-");
    const evil = "\u001b]0;pwned\u0007\u001b[31mred</script><b>bold</b>\r\n";
    const line = (at: number, ok: boolean) =>
      JSON.stringify(
        ok
          ? { target: evil, ok, at, job: "j", uptime: { raw: "", text: evil, seconds: 60 } }
          : { target: evil, ok, at, job: "j", error: { code: `X${evil}`, message: evil } },
      );
    const a = join(dir, "a.ndjson");
    const b = join(dir, "b.ndjson");
    await writeFile(a, `${line(1_700_000_000_000, true)}\n`);
    await writeFile(b, `${line(1_700_000_100_000, false)}\n`);
    const html = join(dir, "r.html");
    const r = await report([a, b, "--html", html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("newly failing: 1");
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain("\\x1b[31mred");
    const page = await readFile(html, "utf8");
    expect(page).not.toContain("<b>bold");
    expect(page).not.toContain("</script><b>");
    expect(page.match(/<script/g)?.length).toBe(2);
    expect(page).toContain("&lt;b&gt;bold&lt;/b&gt;");
  });
});
