import { optionError } from "@uptime/protocol/check";
import { hashIndex } from "./uptime-text.js";

/**
 * What a simulated host does when a client connects.
 *
 * - `ok`: answers `uptime` (and `cat /proc/uptime`) with its expected values, exit 0.
 * - `auth-reject`: rejects every authentication method.
 * - `changed-hostkey`: listed in known_hosts with the fleet key but serves a different key.
 * - `hostkey-unknown`: serves the fleet key but has no known_hosts line.
 * - `exit-status`: prints `uptime: simulated failure` and a second line on stderr and exits 3.
 * - `huge-output`: writes 1 MiB to stdout, then exits 0.
 * - `silent`: accepts TCP and never sends a byte.
 * - `slow-banner`: sends its SSH identification line one byte per second, then works normally.
 * - `garbage`: sends random bytes that are not SSH, then closes.
 * - `close-after-auth`: destroys the connection right after authentication succeeds.
 * - `no-exec-reply`: opens the session but never answers the exec request.
 * - `stream-forever`: streams output until the client goes away (hard cap: `holdCapMs`).
 * - `hostile-stderr`: exits 1 with a stderr line full of terminal escapes (OSC 52, screen clear),
 *   NUL, BEL, CR, a bidi override, a byte that is not UTF-8 and a forged
 *   `host: 10.9.9.9, result: 999 days`; not drawn by {@link failureMix}.
 * - `close-without-exit`: writes `partial` and closes the channel without an exit status; not drawn by
 *   {@link failureMix}.
 * - `password-only`: offers only the `password` method (and accepts no password); not drawn by
 *   {@link failureMix}.
 */
export type Behaviour =
  | "ok"
  | "auth-reject"
  | "changed-hostkey"
  | "hostkey-unknown"
  | "exit-status"
  | "huge-output"
  | "silent"
  | "slow-banner"
  | "garbage"
  | "close-after-auth"
  | "no-exec-reply"
  | "stream-forever"
  | "hostile-stderr"
  | "close-without-exit"
  | "password-only";

/** Every behaviour, `ok` first. */
export const BEHAVIOURS: readonly Behaviour[] = [
  "ok",
  "auth-reject",
  "changed-hostkey",
  "hostkey-unknown",
  "exit-status",
  "huge-output",
  "silent",
  "slow-banner",
  "garbage",
  "close-after-auth",
  "no-exec-reply",
  "stream-forever",
  "hostile-stderr",
  "close-without-exit",
  "password-only",
];

/** The failure behaviours {@link failureMix} draws from (the mix benchmarks and the demo have always used). */
export const FAILURE_BEHAVIOURS: readonly Behaviour[] = BEHAVIOURS.filter(
  (b) => b !== "ok" && b !== "hostile-stderr" && b !== "close-without-exit" && b !== "password-only",
);

const behaviourSet = new Set<string>(BEHAVIOURS);

/** True when `value` names a behaviour. */
export function isBehaviour(value: unknown): value is Behaviour {
  return typeof value === "string" && behaviourSet.has(value);
}

/**
 * A deterministic behaviour picker: about `rate` of the hosts fail, evenly spread over `from`.
 *
 * @example
 * ```ts
 * await startFleet({ hosts: 1000, behaviours: failureMix(0.05) });
 * ```
 */
export function failureMix(
  rate: number,
  from: readonly Behaviour[] = FAILURE_BEHAVIOURS,
): (index: number) => Behaviour {
  if (!(typeof rate === "number" && rate >= 0 && rate <= 1)) {
    throw optionError("rate", "a number from 0 to 1", rate);
  }
  if (from.length === 0 || !from.every(isBehaviour)) {
    throw optionError("from", "a non-empty list of behaviours", from);
  }
  const threshold = Math.round(rate * 0x1_0000_0000);
  return (index) => {
    if (hashIndex(index, 1001) >= threshold) return "ok";
    return from[hashIndex(index, 1002) % from.length]!;
  };
}

/**
 * The `@uptime/ssh-probe` error codes a correct client may report for each behaviour (empty: it succeeds).
 * Several are allowed where the outcome depends on the client's timeouts and limits.
 */
export const EXPECTED_ERROR_CODES: Readonly<Record<Behaviour, readonly string[]>> = {
  ok: [],
  "auth-reject": ["AUTH"],
  "changed-hostkey": ["HOSTKEY_MISMATCH"],
  "hostkey-unknown": ["HOSTKEY_UNKNOWN"],
  "exit-status": ["EXIT_STATUS"],
  "huge-output": ["OUTPUT_TOO_LARGE", "PARSE"],
  silent: ["CONNECT_TIMEOUT", "HANDSHAKE"],
  "slow-banner": ["CONNECT_TIMEOUT", "HANDSHAKE"],
  garbage: ["HANDSHAKE", "CLOSED"],
  "close-after-auth": ["CLOSED"],
  "no-exec-reply": ["COMMAND_TIMEOUT"],
  "stream-forever": ["COMMAND_TIMEOUT", "OUTPUT_TOO_LARGE"],
  "hostile-stderr": ["EXIT_STATUS"],
  "close-without-exit": ["CLOSED"],
  "password-only": ["AUTH"],
};
