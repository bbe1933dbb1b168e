// Generated NDJSON result files for uptime-report: N hosts x 2 runs a day apart, shaped as
// `uptime-sink --format ndjson` writes them. Deterministic: host i's fate follows i, so a test or a
// benchmark can predict the counts. About 1% rebooted, 2% failing in each run, 0.1% missing.
import { writeFileSync } from "node:fs";

const DAY = 86_400_000;
const CODES = ["CONNECT_TIMEOUT", "AUTH", "CONNECT_REFUSED", "HOST_KEY", "DNS"];

/** What happens to host i between run 1 and run 2. */
export function fateOf(i) {
  if (i % 997 === 3) return "missing";
  if (i % 101 === 7) return "rebooted";
  if (i % 53 === 11) return "newly-failing";
  if (i % 59 === 13) return "recovered";
  if (i % 67 === 17) return "failing";
  return "steady";
}

export function uptimeSecondsOf(i) {
  return ((i * 2_654_435_761) % 400) * 86_400 + ((i * 40_503) % 86_400);
}

function okLine(job, seq, target, at, seconds) {
  const minutes = Math.floor(seconds / 60);
  const d = Math.floor(minutes / 1440);
  const hm = `${Math.floor((minutes % 1440) / 60)}:${String(minutes % 60).padStart(2, "0")}`;
  const text = d > 0 ? `${d} day${d === 1 ? "" : "s"}, ${hm}` : hm;
  return JSON.stringify({
    job,
    seq,
    attempt: 1,
    target,
    worker: "w1",
    slot: seq % 500,
    durationMs: 21.3,
    at,
    ok: true,
    uptime: {
      raw: ` 10:14:51 up ${text},  2 users,  load average: 0.00, 0.01, 0.05`,
      text,
      seconds: minutes * 60,
      users: 2,
      load: [0, 0.01, 0.05],
    },
  });
}

function failLine(job, seq, target, at, i) {
  const code = CODES[i % CODES.length];
  return JSON.stringify({
    job,
    seq,
    attempt: 1,
    target,
    worker: "w1",
    slot: seq % 500,
    durationMs: 3000,
    at,
    ok: false,
    error: { code, message: `${code.toLowerCase()} on ${target}` },
  });
}

/** Writes run1/run2 NDJSON for `hosts` hosts into `dir`; returns the paths and the expected counts. */
export function writeRuns(
  dir,
  hosts,
  { t0 = Date.UTC(2026, 10, 30, 6, 0, 0), name = (i) => `host${i}.dc1.example` } = {},
) {
  const runs = [[], []];
  const expected = { rebooted: 0, newlyFailing: 0, recovered: 0, missing: 0, failed: 0, ok: 0 };
  for (let i = 0; i < hosts; i++) {
    const target = name(i);
    const fate = fateOf(i);
    const up = uptimeSecondsOf(i);
    const at1 = t0 + (i % 600) * 100;
    const at2 = at1 + DAY + (i % 7) * 1000;
    runs[0].push(
      fate === "recovered" || fate === "failing"
        ? failLine("job1", i, target, at1, i)
        : okLine("job1", i, target, at1, up),
    );
    if (fate === "missing") {
      expected.missing++;
      continue;
    }
    if (fate === "newly-failing" || fate === "failing") {
      runs[1].push(failLine("job2", i, target, at2, i));
      expected.failed++;
      if (fate === "newly-failing") expected.newlyFailing++;
      continue;
    }
    expected.ok++;
    if (fate === "recovered") expected.recovered++;
    if (fate === "rebooted") {
      expected.rebooted++;
      runs[1].push(okLine("job2", i, target, at2, 3600 + (i % 3600)));
    } else runs[1].push(okLine("job2", i, target, at2, up + (at2 - at1) / 1000));
  }
  const files = [`${dir}/run1.ndjson`, `${dir}/run2.ndjson`];
  writeFileSync(files[0], `${runs[0].join("\n")}\n`);
  writeFileSync(files[1], `${runs[1].join("\n")}\n`);
  return { files, expected };
}
