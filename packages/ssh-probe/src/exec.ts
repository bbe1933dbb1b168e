// One command over an authenticated connection (connection.ts opens it): the exec channel, output caps,
// the command timeout, and which failures leave the connection usable.
import { decodeUtf8 } from "@uptime/protocol";
import type { ClientChannel } from "ssh2";
import type { Connection } from "./connection.js";
import { classifyError, ProbeError } from "./errors.js";

/** What a command returned; a non-zero status is not an error at this level. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitStatus: number | undefined;
  exitSignal: string | undefined;
}

export interface ExecParams {
  command: string;
  commandTimeoutMs: number;
  maxOutputBytes: number;
}

const MAX_STDERR = 4096;

/**
 * ssh2 ends a channel's writable side when the channel closes, then its `destroy()` (run when the readable side
 * ends) calls `end()` again; Node answers a second `end()` by building an ERR_STREAM_ALREADY_FINISHED error with
 * a stack trace and dropping it, about a fifth of a pooled re-probe's CPU in our profiles. Without a callback to
 * hand that error to, a second `end()` does nothing else, so it is skipped.
 */
function quietEnd(ch: ClientChannel): void {
  const end = ch.end;
  ch.end = function quietEndOnce(this: ClientChannel, ...args: unknown[]) {
    if (args.length === 0 && this.writableFinished) return this;
    return (end as (...a: unknown[]) => ClientChannel).apply(this, args);
  } as typeof ch.end;
}

/** Error of an exec on a connection that turned out to be dead before anything was received. */
export class StaleConnectionError extends ProbeError {}

/**
 * Runs one command on the connection. Settles exactly once; on any failure the connection is destroyed (it
 * may have a channel still streaming), on success it stays usable.
 */
export function execCommand(conn: Connection, params: ExecParams, signal: AbortSignal): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let settled = false;
    let received = false;
    let stream: ClientChannel | undefined;
    const out: Buffer[] = [];
    let outBytes = 0;
    const err: Buffer[] = [];
    let errBytes = 0;
    let exitStatus: number | undefined;
    let exitSignal: string | undefined;

    const timer = setTimeout(
      () => fail(new ProbeError("COMMAND_TIMEOUT", `no exit status within ${params.commandTimeoutMs} ms`)),
      params.commandTimeoutMs,
    );
    const onAbort = () => fail(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    // Before the server has answered anything, a dead connection may simply be a stale pooled one.
    const onConnError = (e: Error) =>
      fail(received ? e : new StaleConnectionError("CLOSED", `connection lost: ${e.message}`, { cause: e }));
    const onConnClose = () =>
      fail(
        new (received ? ProbeError : StaleConnectionError)("CLOSED", "connection closed before exit status"),
      );
    conn.client.on("error", onConnError);
    conn.client.on("close", onConnClose);

    function cleanup(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      conn.client.removeListener("error", onConnError);
      conn.client.removeListener("close", onConnClose);
      if (stream) {
        stream.removeAllListeners("data");
        stream.stderr.removeAllListeners("data");
        stream.removeListener("exit", onExit);
        stream.removeListener("close", onStreamClose);
      }
    }

    function fail(reason: unknown): void {
      if (settled) return;
      settled = true;
      cleanup();
      conn.client.destroy();
      conn.sock.destroy();
      reject(classifyError(reason, "exec", ""));
    }

    function onExit(code: number | null, sig?: string): void {
      received = true;
      if (typeof code === "number") exitStatus = code;
      if (typeof sig === "string") exitSignal = sig;
    }

    function onStreamClose(): void {
      if (settled) return;
      if (exitStatus === undefined && exitSignal === undefined) {
        fail(new ProbeError("CLOSED", "channel closed without exit status"));
        return;
      }
      settled = true;
      cleanup();
      resolve({
        // Bytes that are not UTF-8 survive (as lone surrogates) so that outputs can show them as \xHH.
        stdout: decodeUtf8(Buffer.concat(out)),
        stderr: decodeUtf8(Buffer.concat(err)),
        exitStatus,
        exitSignal,
      });
    }

    try {
      conn.client.exec(params.command, (e, ch) => {
        if (settled) {
          ch?.destroy();
          return;
        }
        if (e) {
          const Cls = received ? ProbeError : StaleConnectionError;
          return fail(new Cls("CLOSED", `cannot open exec channel: ${e.message}`, { cause: e }));
        }
        received = true;
        stream = ch;
        quietEnd(ch);
        ch.on("data", (chunk: Buffer) => {
          outBytes += chunk.length;
          if (outBytes > params.maxOutputBytes) {
            return fail(
              new ProbeError(
                "OUTPUT_TOO_LARGE",
                `output exceeded maxOutputBytes (${params.maxOutputBytes} bytes)`,
              ),
            );
          }
          out.push(chunk);
        });
        ch.stderr.on("data", (chunk: Buffer) => {
          if (errBytes < MAX_STDERR) {
            err.push(chunk.subarray(0, MAX_STDERR - errBytes));
            errBytes += chunk.length;
          }
        });
        ch.on("exit", onExit);
        ch.on("close", onStreamClose);
      });
    } catch (e) {
      fail(new StaleConnectionError("CLOSED", `cannot start command: ${(e as Error).message}`, { cause: e }));
    }
  });
}
