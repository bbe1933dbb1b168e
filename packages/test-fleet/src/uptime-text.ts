/**
 * Deterministic, realistic `uptime` output for simulated hosts. A host's answer depends only on its index,
 * so tests can predict it without talking to the host.
 */

/** The `uptime` dialects the fleet imitates; host `i` uses `UPTIME_FORMATS[i % UPTIME_FORMATS.length]`. */
export const UPTIME_FORMATS = [
  "procps",
  "procps-minutes",
  "procps-day-minutes",
  "procps-hours",
  "procps-no-users",
  "busybox",
  "bsd",
  "solaris",
  "aix",
] as const;

/** One of {@link UPTIME_FORMATS}. */
export type UptimeFormat = (typeof UPTIME_FORMATS)[number];

/** What a host answers to `uptime`, and the values a correct parser extracts from it. */
export interface ExpectedUptime {
  /** Uptime in seconds, at the resolution the line shows (minutes, or hours on some Solaris lines). */
  seconds: number;
  /**
   * The duration part of the line, between `up` and the users/load field, with whitespace normalised
   * (runs collapsed, `, ` between parts): `65 days, 17:07`, `2 min`, `12 day(s), 3 hr(s)`, `5:32` for `up  5:32`.
   */
  text: string;
  /** The whole line exactly as the host prints it (leading spaces included), without the trailing newline. */
  raw: string;
  /** Logged-in users, when the line shows them. */
  users?: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  /** The dialect of the line. */
  format: UptimeFormat;
}

/** A 32-bit integer hash (murmur3 finaliser): good spread, no state. */
export function hashIndex(index: number, salt = 0): number {
  let x = (index ^ Math.imul(salt + 1, 0x9e3779b9)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x = Math.imul(x ^ (x >>> 16), 0x27d4eb2f);
  return (x ^ (x >>> 15)) >>> 0;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Percent of the hosts that reboot in each simulated reboot round. */
export const REBOOT_PERCENT = 3;

/**
 * The last of reboot rounds 1..`reboots` in which host `index` rebooted, or 0 when it did not: in each round
 * {@link REBOOT_PERCENT}% of the hosts reboot, chosen by a hash of the index and the round.
 */
export function rebootedIn(index: number, reboots: number): number {
  for (let g = reboots; g >= 1; g--) if (hashIndex(index, 5000 + g) % 100 < REBOOT_PERCENT) return g;
  return 0;
}

/**
 * The deterministic `uptime` answer of host `index` after `reboots` reboot rounds: a host that rebooted in one
 * of them has been up a few minutes (its clock, users and load change too); the others answer as in round 0.
 */
export function expectedUptime(index: number, reboots = 0): ExpectedUptime {
  const boot = rebootedIn(index, reboots);
  const format = boot > 0 ? "procps-minutes" : UPTIME_FORMATS[index % UPTIME_FORMATS.length]!;
  const r = (salt: number, mod: number): number => hashIndex(index, salt + boot * 100) % mod;
  let days = 1 + r(1, 400);
  let hours = 1 + r(2, 23);
  let minutes = r(3, 60);
  const hh = r(4, 24);
  const mm = r(5, 60);
  const ss = r(6, 60);
  const users = 1 + r(7, 12);
  const load: [number, number, number] = [r(8, 400) / 100, r(9, 400) / 100, r(10, 400) / 100];
  const clock = `${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`;
  const ampm = `${hh % 12 === 0 ? 12 : hh % 12}:${pad2(mm)}`;
  const userField = (n: number): string => `${String(n).padStart(2)} user${n === 1 ? "" : "s"}`;
  const loadComma = `${load[0].toFixed(2)}, ${load[1].toFixed(2)}, ${load[2].toFixed(2)}`;
  const hm = (): string => `${String(hours).padStart(2)}:${pad2(minutes)}`;
  let prefix: string;
  let text: string;
  let suffix: string;
  let shownUsers: number | undefined = users;

  switch (format) {
    case "procps":
      prefix = ` ${clock} up `;
      text = `${plural(days, "day")}, ${hm()}`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
    case "procps-minutes":
      days = 0;
      hours = 0;
      minutes = 1 + r(3, 59);
      prefix = ` ${clock} up `;
      text = `${minutes} min`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
    case "procps-day-minutes":
      days = 1 + r(1, 30);
      hours = 0;
      minutes = 1 + r(3, 59);
      prefix = ` ${clock} up `;
      text = `${plural(days, "day")}, ${minutes} min`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
    case "procps-hours":
      days = 0;
      prefix = ` ${clock} up ${hours < 10 ? " " : ""}`;
      text = `${hours}:${pad2(minutes)}`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
    case "procps-no-users":
      shownUsers = undefined;
      prefix = ` ${clock} up `;
      text = `${plural(days, "day")}, ${hm()}`;
      suffix = `,  load average: ${loadComma}`;
      break;
    case "busybox":
      shownUsers = undefined;
      prefix = ` ${clock} up `;
      text = `${plural(days, "day")}, ${hours}:${pad2(minutes)}`;
      suffix = `, load average: ${loadComma}`;
      break;
    case "bsd": {
      // macOS/FreeBSD w(1): "H:MM" when both are non-zero, else "N hrs" or "N mins".
      const variant = r(11, 3);
      if (variant === 1) hours = 0;
      if (variant === 2) minutes = 0;
      if (minutes === 0 && hours === 0) minutes = 1;
      const part = hours > 0 && minutes > 0 ? hm() : hours > 0 ? plural(hours, "hr") : plural(minutes, "min");
      prefix = `${hh % 12 === 0 ? 12 : hh % 12}:${pad2(mm)}  up `;
      text = `${plural(days, "day")}, ${part}`;
      suffix = `, ${plural(users, "user")}, load averages: ${load.map((l) => l.toFixed(2)).join(" ")}`;
      break;
    }
    case "solaris": {
      if (r(11, 2) === 0) minutes = 0;
      const part = minutes === 0 ? `${hours} hr(s)` : hm();
      prefix = `  ${ampm}${hh < 12 ? "am" : "pm"}  up `;
      text = `${days} day(s), ${part}`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
    }
    case "aix":
      prefix = `  ${ampm}${hh < 12 ? "AM" : "PM"}   up `;
      text = `${plural(days, "day")}, ${String(hours).padStart(3)}:${pad2(minutes)}`;
      suffix = `, ${userField(users)},  load average: ${loadComma}`;
      break;
  }
  const seconds = days * 86_400 + hours * 3_600 + minutes * 60;
  const normalised = text
    .trim()
    .replace(/\s*,\s*/g, ", ")
    .replace(/\s+/g, " ");
  const result: ExpectedUptime = {
    seconds,
    text: normalised,
    raw: `${prefix}${text}${suffix}`,
    load,
    format,
  };
  if (shownUsers !== undefined) result.users = shownUsers;
  return result;
}
