/* Test helper (not exported): a plain ssh2 client that runs one command on one fleet host. */
import { readFileSync } from "node:fs";
import ssh2 from "ssh2";
import type { Fleet, FleetHost } from "./fleet.js";

const { Client } = ssh2;

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  code: number | undefined;
  /** The raw host key the server presented. */
  hostKey: Buffer | undefined;
}

/** Connects, runs `command`, resolves with its output; rejects with the ssh2 error (err.level set). */
export function execOnHost(
  fleet: Fleet,
  host: FleetHost,
  command = "uptime",
  options: { readyTimeout?: number; privateKey?: string } = {},
): Promise<ExecOutcome> {
  const privateKey = options.privateKey ?? readFileSync(fleet.clientKeyPath, "utf8");
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKey: Buffer | undefined;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      client.end();
      client.destroy();
      fn();
    };
    client.on("error", (err) => settle(() => reject(err)));
    client.on("close", () => settle(() => reject(new Error("closed before the command finished"))));
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) return settle(() => reject(err));
        let stdout = "";
        let stderr = "";
        let code: number | undefined;
        stream.on("data", (d: Buffer) => {
          stdout += d.toString();
        });
        stream.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
        });
        stream.on("exit", (c: number | null) => {
          code = c ?? undefined;
        });
        stream.on("close", () => settle(() => resolve({ stdout, stderr, code, hostKey })));
      });
    });
    client.connect({
      host: host.address,
      port: host.port,
      username: "fleet",
      privateKey,
      readyTimeout: options.readyTimeout ?? 5_000,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
    });
  });
}

/** Runs the OpenSSH client without user config; fails clearly when it is not installed. */
export async function runOpenSsh(
  args: string[],
  timeout = 10_000,
): Promise<{ stdout: string; stderr: string }> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    execFile("ssh", ["-F", "/dev/null", ...args], { timeout }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === "ENOENT") {
        reject(
          new Error(
            "the OpenSSH client `ssh` is not installed; these tests need it (apt-get install openssh-client)",
          ),
        );
      } else if (err) {
        reject(Object.assign(err, { stderr }));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}
