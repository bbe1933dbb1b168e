import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";

export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

/**
 * A loopback port whose listen backlog is full and never accepted: the kernel drops further SYNs, so a new
 * connection hangs in SYN_SENT exactly like a firewalled host. Node always accepts, so a tiny Python listener
 * (listen(0), no accept) holds the port; we fill its backlog ourselves.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn(
    "python3",
    [
      "-c",
      "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()",
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", (err) =>
      reject(new Error(`python3 is needed for the connect-timeout test: ${err.message}`)),
    );
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect({ host: "127.0.0.1", port });
    s.on("error", () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.stdin.end();
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}
