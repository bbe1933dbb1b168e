import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import { ProbeError } from "./errors.js";

/**
 * Runs an ssh_config `ProxyCommand` through `/bin/sh -c` and returns its stdin/stdout as the stream SSH is
 * spoken over, as OpenSSH does. One process per connection: its cost (a fork and exec, often a whole `ssh -W`)
 * is paid for every new connection to such a host. Destroying the stream kills the process.
 */
export function spawnProxyCommand(command: string): Duplex {
  const child = spawn("/bin/sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let stdoutEnded = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const stream = new Duplex({
    read() {
      child.stdout.resume();
    },
    write(chunk, _encoding, callback) {
      // A write error (EPIPE once the command exited) is not passed on: the exit status, reported when
      // stdout ends, says what went wrong; passed on, it would look like a dropped connection and be retried.
      child.stdin.write(chunk, () => callback());
    },
    final(callback) {
      child.stdin.end(callback);
    },
    destroy(err, callback) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      callback(err);
    },
  });
  // The end of the stream waits for the exit status, so a failing command is reported as itself, not as a
  // connection the server dropped (which would be retried).
  const maybeEnd = () => {
    if (!stdoutEnded || !exit || stream.destroyed) return;
    if (exit.code !== 0) {
      const why = stderr.trim().split("\n")[0] ?? "";
      stream.destroy(
        new ProbeError(
          "UNREACHABLE",
          `ProxyCommand exited with ${exit.code ?? exit.signal}${why ? `: ${why}` : ""}`,
        ),
      );
    } else {
      stream.push(null);
    }
  };
  child.stdout.on("data", (chunk: Buffer) => {
    if (!stream.push(chunk)) child.stdout.pause();
  });
  child.stdout.once("end", () => {
    stdoutEnded = true;
    maybeEnd();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString("utf8");
  });
  child.stdin.on("error", () => {}); // EPIPE after the command exited: its exit status says more.
  child.once("error", (err) => stream.destroy(err));
  child.once("exit", (code, signal) => {
    exit = { code, signal };
    maybeEnd();
  });
  return stream;
}
