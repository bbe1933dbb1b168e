import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "./keys.js";

export interface Agent {
  socketPath: string;
  pid: number;
  /** Ends the agent (SIGTERM; it removes its socket) and removes what the helper created. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a real ssh-agent in the foreground on a temporary socket (or on `socketPath`, whose directory the
 * caller owns) and ssh-adds the given keys.
 */
export async function startAgent(keyPaths: string[], at?: { socketPath: string }): Promise<Agent> {
  const temp = at ? undefined : makeTempDir("ssh-probe-agent-");
  const cleanup = temp ? temp.cleanup : () => rmSync(at!.socketPath, { force: true });
  const socketPath = at ? at.socketPath : join(temp!.dir, "agent.sock");
  // A socket left by an agent that was killed hard would make the new one fail to bind.
  if (at) rmSync(socketPath, { force: true });
  let child: ChildProcess;
  try {
    child = spawn("ssh-agent", ["-D", "-a", socketPath], { stdio: "ignore" });
  } catch (err) {
    cleanup();
    throw new Error(`ssh-agent is required (install openssh-client): ${(err as Error).message}`);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", () => {});
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    cleanup();
  };
  const until = Date.now() + 5000;
  while (!existsSync(socketPath)) {
    if (child.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error("ssh-agent did not create its socket within 5 s");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const key of keyPaths) {
    execFileSync("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: socketPath }, stdio: "pipe" });
  }
  return { socketPath, pid: child.pid!, stop };
}
