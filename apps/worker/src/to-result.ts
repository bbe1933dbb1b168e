import type { Task } from "@uptime/protocol";
import type { CommandResult, ProbeResult } from "@uptime/ssh-probe";
import type { ResultBody } from "@uptime/transport-zmq";

const MAX_TEXT = 8000;

/** Maps a probe result onto the protocol's result message for the sink. */
export function toResult(
  task: Task,
  probe: ProbeResult | CommandResult,
  worker: string,
  slot: number,
): ResultBody {
  const base = {
    t: "result" as const,
    job: task.job,
    seq: task.seq,
    attempt: task.attempt,
    target: task.target,
    worker,
    slot,
    durationMs: Math.round(probe.durationMs * 10) / 10,
    at: Date.now(),
    // Where ssh_config sent the target; `target` stays the inventory's name.
    ...(probe.resolved ? { resolved: probe.resolved } : {}),
  };
  if (probe.ok) {
    if (!probe.uptime) return { ...base, ok: true, output: probe.output.slice(0, MAX_TEXT) };
    const { raw, text, seconds, users, load } = probe.uptime;
    return {
      ...base,
      ok: true,
      uptime: {
        raw: raw.slice(0, MAX_TEXT),
        text: text.slice(0, MAX_TEXT),
        seconds,
        ...(users !== undefined ? { users } : {}),
        ...(load ? { load } : {}),
      },
    };
  }
  return {
    ...base,
    ok: false,
    error: {
      code: probe.error.code,
      message: probe.error.message.slice(0, MAX_TEXT),
      ...(probe.error.hop !== undefined ? { hop: probe.error.hop } : {}),
    },
  };
}
