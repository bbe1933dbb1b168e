import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real OpenSSH ssh-agent holding the fleet's client key. */
export interface FleetAgent {
  /** For `SSH_AUTH_SOCK`. */
  socketPath: string;
  pid: number;
  /** Ends the agent (SIGTERM; it removes its socket) and the directory made for it (or the socket given). Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startAgent}. */
export interface AgentOptions {
  /** Listen here (its directory belongs to the caller; a stale socket is removed first, and again by `stop`),
   * e.g. to restart an agent on the same path. @default `agent.sock` in a new temp dir removed by `stop` */
  socketPath?: string;
}

/**
 * Starts `ssh-agent -D` on a socket in a new temp dir and `ssh-add`s `keyPaths` (e.g. `fleet.clientKeyPath`),
 * so clients can log in to the fleet through an agent instead of a key file. Needs openssh-client; fails clearly
 * without it.
 *
 * @example
 * ```ts
 * const agent = await startAgent([fleet.clientKeyPath]);
 * // SSH_AUTH_SOCK=agent.socketPath ...
 * await agent.stop();
 * ```
 */
export async function startAgent(keyPaths: string[], options: AgentOptions = {}): Promise<FleetAgent> {
  const dir =
    options.socketPath === undefined ? await mkdtemp(join(tmpdir(), "uptime-fleet-agent-")) : undefined;
  const socketPath = options.socketPath ?? join(dir!, "agent.sock");
  // A socket left by an agent that was killed hard would make the new one fail to bind.
  if (dir === undefined) await rm(socketPath, { force: true });
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socketPath], { stdio: "ignore" });
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && !spawnError) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      await rm(dir ?? socketPath, { recursive: true, force: true });
    })();
    return stopped;
  };
  const until = Date.now() + 5000;
  while (!existsSync(socketPath)) {
    if (spawnError || child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(
        spawnError
          ? `ssh-agent is required (install openssh-client): ${spawnError.message}`
          : "ssh-agent did not create its socket within 5 s",
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    for (const key of keyPaths) {
      await new Promise<void>((resolve, reject) =>
        execFile(
          "ssh-add",
          ["-q", key],
          { env: { ...process.env, SSH_AUTH_SOCK: socketPath } },
          (err, _o, e) => (err ? reject(new Error(`ssh-add ${key}: ${e.trim() || err.message}`)) : resolve()),
        ),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { socketPath, pid: child.pid!, stop };
}
