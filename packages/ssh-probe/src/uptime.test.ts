import { describe, expect, test } from "vitest";
import { parseUptime } from "./uptime.js";

const M = 60;
const H = 3600;
const D = 86400;

// Real outputs, copied from the systems named.
const samples: [string, string, { text: string; seconds: number; users?: number; load?: number[] }][] = [
  [
    "procps-ng 3.3 (Linux), days and h:mm",
    " 10:14:32 up 65 days, 17:07,  3 users,  load average: 0.08, 0.03, 0.01",
    { text: "65 days, 17:07", seconds: 65 * D + 17 * H + 7 * M, users: 3, load: [0.08, 0.03, 0.01] },
  ],
  [
    "procps-ng, minutes only",
    " 09:01:55 up 2 min,  1 user,  load average: 0.52, 0.24, 0.09",
    { text: "2 min", seconds: 2 * M, users: 1, load: [0.52, 0.24, 0.09] },
  ],
  [
    "procps-ng, one day and minutes",
    " 12:00:01 up 1 day,  3 min,  2 users,  load average: 1.00, 0.50, 0.25",
    { text: "1 day, 3 min", seconds: D + 3 * M, users: 2 },
  ],
  [
    "procps-ng, padded h:mm",
    " 08:00:00 up  5:32,  0 users,  load average: 0.00, 0.01, 0.05",
    { text: "5:32", seconds: 5 * H + 32 * M, users: 0 },
  ],
  [
    "procps-ng 4 (no users field when none)",
    " 14:03:10 up 12 days,  4:05,  load average: 0.10, 0.20, 0.30",
    { text: "12 days, 4:05", seconds: 12 * D + 4 * H + 5 * M, load: [0.1, 0.2, 0.3] },
  ],
  [
    "procps-ng 3.3.17 with zero users (singular 'user')",
    " 09:01:35 up 17 min,  0 user,  load average: 1.71, 1.06, 0.55",
    { text: "17 min", seconds: 17 * M, users: 0, load: [1.71, 1.06, 0.55] },
  ],
  [
    "BusyBox 1.36",
    " 14:03:10 up 3 days,  4:05, load average: 0.00, 0.00, 0.00",
    { text: "3 days, 4:05", seconds: 3 * D + 4 * H + 5 * M, load: [0, 0, 0] },
  ],
  [
    "BusyBox with users",
    " 07:42:11 up 17 min,  1 users,  load average: 0.04, 0.10, 0.08",
    { text: "17 min", seconds: 17 * M, users: 1 },
  ],
  [
    "macOS (load averages without commas)",
    "10:14  up 14 days,  3:02, 2 users, load averages: 1.95 2.05 2.10",
    { text: "14 days, 3:02", seconds: 14 * D + 3 * H + 2 * M, users: 2, load: [1.95, 2.05, 2.1] },
  ],
  [
    "macOS, mins",
    "9:41  up 3 mins, 1 user, load averages: 2.31 1.20 0.50",
    { text: "3 mins", seconds: 3 * M, users: 1, load: [2.31, 1.2, 0.5] },
  ],
  [
    "macOS, hrs",
    "17:20  up 2 days, 5 hrs, 3 users, load averages: 1.10 1.20 1.30",
    { text: "2 days, 5 hrs", seconds: 2 * D + 5 * H, users: 3 },
  ],
  [
    "macOS, secs",
    "8:00  up 42 secs, 1 user, load averages: 3.00 1.00 0.40",
    { text: "42 secs", seconds: 42, users: 1 },
  ],
  [
    "FreeBSD 14 (load averages with commas)",
    "10:14AM  up 12 days, 20:04, 1 user, load averages: 0.13, 0.19, 0.17",
    { text: "12 days, 20:04", seconds: 12 * D + 20 * H + 4 * M, users: 1, load: [0.13, 0.19, 0.17] },
  ],
  [
    "Solaris/illumos day(s)",
    "  10:14am  up 12 day(s),  3:02,  2 users,  load average: 0.04, 0.05, 0.05",
    { text: "12 day(s), 3:02", seconds: 12 * D + 3 * H + 2 * M, users: 2, load: [0.04, 0.05, 0.05] },
  ],
  [
    "Solaris hr(s)",
    "  4:10pm  up 1 day(s), 2 hr(s),  1 user,  load average: 0.01, 0.02, 0.03",
    { text: "1 day(s), 2 hr(s)", seconds: D + 2 * H, users: 1 },
  ],
  [
    "Solaris min(s)",
    "  4:10pm  up 25 min(s),  1 user,  load average: 0.20, 0.10, 0.05",
    { text: "25 min(s)", seconds: 25 * M, users: 1 },
  ],
  [
    "AIX 7.2",
    "  11:07AM   up 124 days,  23:16,  3 users,  load average: 1.00, 1.10, 1.20",
    { text: "124 days, 23:16", seconds: 124 * D + 23 * H + 16 * M, users: 3, load: [1, 1.1, 1.2] },
  ],
  [
    "AIX, minutes",
    "  02:15PM   up 1 day,   20 mins,  1 user,  load average: 2.04, 2.11, 2.13",
    { text: "1 day, 20 mins", seconds: D + 20 * M, users: 1 },
  ],
  [
    "uptime -p",
    "up 2 weeks, 3 days, 4 hours, 5 minutes",
    { text: "2 weeks, 3 days, 4 hours, 5 minutes", seconds: 17 * D + 4 * H + 5 * M },
  ],
];

describe("parseUptime", () => {
  test.each(samples)("%s", (_name, line, expected) => {
    const r = parseUptime(`${line}\n`);
    expect(r).toBeDefined();
    expect(r!.raw).toBe(line.trim());
    expect(r!.text).toBe(expected.text);
    expect(r!.seconds).toBe(expected.seconds);
    expect(r!.users).toBe(expected.users);
    if (expected.load) expect(r!.load).toEqual(expected.load);
  });

  test("finds the uptime line after a login banner", () => {
    expect(
      parseUptime("Last login: Mon\n 10:00:00 up 1 day,  2:00,  1 user,  load average: 0, 0, 0\n")?.text,
    ).toBe("1 day, 2:00");
  });

  test.each([
    [""],
    ["Welcome!"],
    ["bash: uptime: command not found"],
    ["backup up to date"],
    [" 10:00 up banana,  1 user,  load average: 0.1, 0.2, 0.3"],
    [" 10:00 up 3:99,  1 user,  load average: 0.1, 0.2, 0.3"],
    [" 10:00 up 3 days,  1 user,  load average: x, y, z"],
  ])("returns undefined for %j", (text) => {
    expect(parseUptime(text)).toBeUndefined();
  });
});
