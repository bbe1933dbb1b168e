import type { Uptime } from "./types.js";

const UNIT_SECONDS: Record<string, number> = {
  sec: 1,
  min: 60,
  hr: 3600,
  hour: 3600,
  day: 86400,
  week: 604800,
  year: 31536000,
};

// One duration segment: "3 days", "1 day(s)", "2 min", "4 hrs", "17:07".
const UNIT_RE = /^(\d+)\s*(sec|min|hr|hour|day|week|year)(?:ute)?(?:s|\(s\))?$/i;
const CLOCK_RE = /^(\d+):(\d{2})$/;
const USERS_RE = /,?\s*(\d+)\s+users?\b/i;
const LOAD_RE = /,?\s*load averages?:\s*(.*)$/i;

function parseDuration(text: string): number | undefined {
  let seconds = 0;
  let seen = 0;
  for (const raw of text.split(",")) {
    const part = raw.trim().replace(/\s+/g, " ");
    if (part === "") continue;
    const clock = CLOCK_RE.exec(part);
    if (clock) {
      const minutes = Number(clock[2]);
      if (minutes > 59) return undefined;
      seconds += Number(clock[1]) * 3600 + minutes * 60;
      seen++;
      continue;
    }
    const unit = UNIT_RE.exec(part);
    if (!unit) return undefined;
    const factor = UNIT_SECONDS[unit[2]!.toLowerCase()];
    if (factor === undefined) return undefined;
    seconds += Number(unit[1]) * factor;
    seen++;
  }
  return seen > 0 ? seconds : undefined;
}

function parseLoad(text: string): [number, number, number] | undefined {
  // "0.08, 0.03, 0.01" (procps, BSD, Solaris, AIX) or "1.95 2.05 2.10" (macOS).
  const numbers = text
    .trim()
    .split(/,\s*|\s+/)
    .filter((s) => s !== "")
    .map(Number);
  if (numbers.length < 3 || numbers.slice(0, 3).some((n) => !Number.isFinite(n))) return undefined;
  return [numbers[0]!, numbers[1]!, numbers[2]!];
}

/**
 * Parses the output of `uptime` from procps (Linux), BusyBox, macOS/FreeBSD, Solaris/illumos and AIX, and of
 * `uptime -p`. Returns `undefined` when no line of `text` is uptime output.
 *
 * @example
 * parseUptime(" 10:14:32 up 65 days, 17:07,  3 users,  load average: 0.08, 0.03, 0.01");
 * // { raw: "10:14:32 up 65 days, 17:07,  3 users,  load average: 0.08, 0.03, 0.01",
 * //   text: "65 days, 17:07", seconds: 5677620, users: 3, load: [0.08, 0.03, 0.01] }
 */
export function parseUptime(text: string): Uptime | undefined {
  for (const line of text.split(/\r?\n/)) {
    const parsed = parseLine(line.trim());
    if (parsed) return parsed;
  }
  return undefined;
}

function parseLine(raw: string): Uptime | undefined {
  const up = /(?:^|\s)up\s+/i.exec(raw);
  if (!up) return undefined;
  let rest = raw.slice(up.index + up[0].length);
  let load: [number, number, number] | undefined;
  const loadMatch = LOAD_RE.exec(rest);
  if (loadMatch) {
    load = parseLoad(loadMatch[1]!);
    if (!load) return undefined;
    rest = rest.slice(0, loadMatch.index);
  }
  let users: number | undefined;
  const usersMatch = USERS_RE.exec(rest);
  if (usersMatch) {
    users = Number(usersMatch[1]);
    if (rest.slice(usersMatch.index + usersMatch[0].length).replace(/[\s,]/g, "") !== "") return undefined;
    rest = rest.slice(0, usersMatch.index);
  }
  const durationText = rest
    .trim()
    .replace(/,$/, "")
    .trim()
    .replace(/\s*,\s*/g, ", ")
    .replace(/\s+/g, " ");
  const seconds = parseDuration(durationText);
  if (seconds === undefined) return undefined;
  const result: Uptime = { raw, text: durationText, seconds };
  if (users !== undefined) result.users = users;
  if (load) result.load = load;
  return result;
}
