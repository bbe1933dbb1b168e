import { describe, expect, test } from "vitest";
import {
  expectedUptime,
  REBOOT_PERCENT,
  rebootedIn,
  UPTIME_FORMATS,
  type UptimeFormat,
} from "./uptime-text.js";

const L = String.raw`\d\.\d\d`;
const SHAPES: Record<UptimeFormat, RegExp> = {
  procps: new RegExp(
    String.raw`^ \d\d:\d\d:\d\d up \d+ days?, [ \d]\d:\d\d, [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
  "procps-minutes": new RegExp(
    String.raw`^ \d\d:\d\d:\d\d up \d+ min, [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
  "procps-day-minutes": new RegExp(
    String.raw`^ \d\d:\d\d:\d\d up \d+ days?, \d+ min, [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
  "procps-hours": new RegExp(
    String.raw`^ \d\d:\d\d:\d\d up [ \d]\d:\d\d, [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
  "procps-no-users": new RegExp(
    String.raw`^ \d\d:\d\d:\d\d up \d+ days?, [ \d]\d:\d\d,  load average: ${L}, ${L}, ${L}$`,
  ),
  busybox: new RegExp(String.raw`^ \d\d:\d\d:\d\d up \d+ days?, \d+:\d\d, load average: ${L}, ${L}, ${L}$`),
  bsd: new RegExp(
    String.raw`^\d?\d:\d\d  up \d+ days?, ( ?\d?\d:\d\d|\d+ hrs?|\d+ mins?), \d+ users?, load averages: ${L} ${L} ${L}$`,
  ),
  solaris: new RegExp(
    String.raw`^  \d?\d:\d\d[ap]m  up \d+ day\(s\), ( ?\d?\d:\d\d|\d+ hr\(s\)), [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
  aix: new RegExp(
    String.raw`^  \d?\d:\d\d[AP]M   up \d+ days?,  [ \d]\d:\d\d, [ \d]\d users?,  load average: ${L}, ${L}, ${L}$`,
  ),
};

/** An independent reading of a normalised duration text. */
function secondsOf(text: string): number {
  let total = 0;
  for (const part of text.split(", ")) {
    const clock = /^(\d+):(\d\d)$/.exec(part);
    if (clock) {
      total += Number(clock[1]) * 3600 + Number(clock[2]) * 60;
      continue;
    }
    const unit = /^(\d+) (day|hr|min)(s|\(s\))?$/.exec(part);
    if (!unit) throw new Error(`unexpected part "${part}" in "${text}"`);
    total += Number(unit[1]) * { day: 86_400, hr: 3_600, min: 60 }[unit[2] as "day" | "hr" | "min"];
  }
  return total;
}

describe("expectedUptime", () => {
  test("host i uses format i mod 9, in the documented shape, deterministically", () => {
    for (let i = 0; i < 2_000; i++) {
      const e = expectedUptime(i);
      expect(e.format).toBe(UPTIME_FORMATS[i % UPTIME_FORMATS.length]);
      expect(e.raw).toMatch(SHAPES[e.format]);
      expect(expectedUptime(i)).toEqual(e);
    }
  });

  test("text is the normalised duration of raw, and seconds is its value", () => {
    for (let i = 0; i < 2_000; i++) {
      const e = expectedUptime(i);
      expect(e.text).not.toMatch(/\s\s|^\s|\s$/);
      const between = /up\s+(.*?),?\s+(?:\d+ users?,|load average)/.exec(e.raw)?.[1];
      expect(between?.replace(/\s*,\s*/g, ", ").replace(/\s+/g, " ")).toBe(e.text);
      expect(secondsOf(e.text)).toBe(e.seconds);
      expect(e.seconds).toBeGreaterThan(0);
      if (e.users !== undefined) expect(e.raw).toMatch(new RegExp(`\\b${e.users} users?`));
      expect(e.raw).toContain(e.load[0].toFixed(2));
    }
  });

  test("the formats cover the dialects the parsers must know", () => {
    const samples = UPTIME_FORMATS.map((_, i) => expectedUptime(i));
    expect(samples.filter((e) => e.users === undefined).map((e) => e.format)).toEqual([
      "procps-no-users",
      "busybox",
    ]);
    expect(new Set(samples.map((e) => e.seconds)).size).toBe(samples.length);
  });

  test("reboot rounds: about 3% of the hosts per round answer a few minutes; the others keep their answer", () => {
    const n = 10_000;
    let rebooted = 0;
    for (let i = 0; i < n; i++) {
      const before = expectedUptime(i, 0);
      const after = expectedUptime(i, 1);
      if (rebootedIn(i, 1) === 0) {
        expect(after).toEqual(before);
        continue;
      }
      rebooted++;
      expect(after.format).toBe("procps-minutes");
      expect(after.seconds).toBeLessThan(3600);
      expect(after.raw).toMatch(SHAPES["procps-minutes"]);
      expect(secondsOf(after.text)).toBe(after.seconds);
      // Rebooted in round 1 and not in round 2: still the round-1 answer.
      if (rebootedIn(i, 2) === 1) expect(expectedUptime(i, 2)).toEqual(after);
    }
    expect(rebooted / n).toBeGreaterThan(REBOOT_PERCENT / 100 - 0.01);
    expect(rebooted / n).toBeLessThan(REBOOT_PERCENT / 100 + 0.01);
  });
});
