import type { Result } from "@uptime/protocol";

/**
 * A result message for store, format and summary tests: host `host<seq>` from `worker1` slot `seq % 4`,
 * `durationMs` = seq; ok with the uptime `65 days, 17:07`, or failed with `DNS` "getaddrinfo ENOTFOUND bzz".
 */
export function sampleResult(seq: number, ok = true, job = "j1"): Result {
  const base = {
    v: 1 as const,
    t: "result" as const,
    job,
    seq,
    attempt: 1,
    target: `host${seq}`,
    worker: "worker1",
    slot: seq % 4,
    durationMs: seq,
    at: 0,
  };
  return ok
    ? {
        ...base,
        ok: true,
        uptime: {
          raw: "up 65 days, 17:07",
          text: "65 days, 17:07",
          seconds: 65 * 86400 + 17 * 3600 + 7 * 60,
        },
      }
    : { ...base, ok: false, error: { code: "DNS", message: "getaddrinfo ENOTFOUND bzz" } };
}
