import { createServer, type Server as NetServer, type Socket } from "node:net";
import { Server, utils } from "ssh2";
import { generateEd25519 } from "./keys.js";

/** How a test server misbehaves (or not). */
export type Behaviour =
  | "ok"
  | "auth-reject"
  | "exit-status"
  | "huge-output"
  | "no-exec-reply"
  | "drip-forever"
  | "stream-forever"
  | "close-without-exit"
  | "close-after-auth"
  | "silent"
  | "slow-banner"
  | "garbage"
  | "password-only";

export interface TestServer {
  host: string;
  port: number;
  /** `ssh-ed25519 AAAA...` of the server's host key. */
  hostPublicKey: string;
  /** Ports of the extra listeners. */
  extraPorts: number[];
  /** Sockets currently open on the server side. */
  openSockets(): number;
  /** Exec requests received. */
  execs: number;
  /** TCP connections accepted. */
  accepted: number;
  /** Most connections that were open but not yet authenticated at the same time. */
  maxPreAuth: number;
  /** Drops every open connection (to test dead pooled connections). */
  dropAll(): void;
  /** Resolves once the server side has no open socket, or rejects after `ms`. */
  waitForNoSockets(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  behaviour?: Behaviour;
  /** Client public keys accepted (wire format). */
  authorizedKeys: Buffer[];
  /** Host private key (OpenSSH format); generated when absent. */
  hostKey?: string;
  /** stdout for "ok" exec requests. */
  output?: string | ((command: string) => { stdout: string; stderr?: string; code?: number });
  host?: string;
  /** Delay before answering an "ok" exec, in ms (or per command). */
  delayMs?: number | ((command: string) => number);
  /** Destroy the first N TCP connections as soon as they are accepted. */
  dropFirst?: number;
  /** Extra listeners (each on its own port) feeding the same server: simulated distinct hosts. */
  extraListeners?: number;
}

export const UPTIME_LINE = " 10:14:32 up 65 days, 17:07,  3 users,  load average: 0.08, 0.03, 0.01\n";

/**
 * A real ssh2 Server on a loopback port 0 that behaves as told. Raw behaviours (silent, slow-banner, garbage)
 * are served by the plain TCP listener and never reach ssh2.
 */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const behaviour = options.behaviour ?? "ok";
  let hostKey = options.hostKey;
  let hostPublicKey: string;
  if (!hostKey) {
    const pair = generateEd25519();
    hostKey = pair.private;
    hostPublicKey = pair.public.trim();
  } else {
    const parsed = utils.parseKey(hostKey);
    if (parsed instanceof Error) throw parsed;
    const k = Array.isArray(parsed) ? parsed[0]! : parsed;
    hostPublicKey = `${k.type} ${k.getPublicSSH().toString("base64")}`;
  }
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  // (timeouts and intervals alike are cleared with clearInterval)
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(fn, ms);
    timers.add(t);
    return t;
  };
  const state = { execs: 0, accepted: 0, preAuth: 0, maxPreAuth: 0 };

  const authMarks = new WeakMap<Socket, () => void>();
  const ssh = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      if (behaviour === "auth-reject") return ctx.reject(["publickey"]);
      if (behaviour === "password-only") return ctx.reject(["password"]);
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const allowed = options.authorizedKeys.find((k) => k.equals(ctx.key.data));
      if (!allowed) return ctx.reject(["publickey"]);
      if (!ctx.signature) return ctx.accept();
      const parsed = utils.parseKey(allowed);
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (!key || key instanceof Error || !ctx.blob) return ctx.reject(["publickey"]);
      if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(["publickey"]);
      ctx.accept();
    });
    const sock = (client as unknown as { _sock: Socket })._sock;
    const markAuthed = authMarks.get(sock);
    client.on("ready", () => {
      markAuthed?.();
      if (behaviour === "close-after-auth") {
        client.end();
        return;
      }
      client.on("session", (accept) => {
        const session = accept();
        session.on("exec", (acceptExec, _reject, info) => {
          state.execs++;
          if (behaviour === "no-exec-reply") return;
          const stream = acceptExec();
          switch (behaviour) {
            case "exit-status":
              stream.stderr.write("uptime: command not found\nsecond line\n");
              stream.exit(127);
              stream.end();
              return;
            case "huge-output":
              stream.write(Buffer.alloc(1024 * 1024, 0x61));
              stream.exit(0);
              stream.end();
              return;
            case "stream-forever": {
              const chunk = Buffer.alloc(16 * 1024, 0x62);
              const t = every(5, () => stream.writable && stream.write(chunk));
              stream.on("close", () => clearInterval(t));
              client.on("close", () => clearInterval(t));
              return;
            }
            case "drip-forever": {
              const t = every(50, () => stream.writable && stream.write("."));
              stream.on("close", () => clearInterval(t));
              client.on("close", () => clearInterval(t));
              return;
            }
            case "close-without-exit":
              stream.write("partial");
              stream.close();
              return;
          }
          const out =
            typeof options.output === "function"
              ? options.output(info.command)
              : { stdout: options.output ?? UPTIME_LINE, stderr: "", code: 0 };
          const answer = () => {
            if (out.stdout) stream.write(out.stdout);
            if (out.stderr) stream.stderr.write(out.stderr);
            stream.exit(out.code ?? 0);
            stream.end();
          };
          const delay =
            typeof options.delayMs === "function" ? options.delayMs(info.command) : options.delayMs;
          if (delay) {
            const t = setTimeout(answer, delay);
            timers.add(t);
          } else {
            answer();
          }
        });
      });
    });
  });

  const onSocket = (sock: Socket) => {
    state.accepted++;
    if (state.accepted <= (options.dropFirst ?? 0)) {
      sock.destroy();
      return;
    }
    state.preAuth++;
    state.maxPreAuth = Math.max(state.maxPreAuth, state.preAuth);
    let authed = false;
    sock.on("close", () => {
      sockets.delete(sock);
      if (!authed) state.preAuth--;
    });
    const markAuthed = () => {
      authed = true;
      state.preAuth--;
    };
    sockets.add(sock);
    sock.on("error", () => {});
    // Raw behaviours read and discard, so the peer's FIN is seen.
    if (behaviour === "silent" || behaviour === "slow-banner" || behaviour === "garbage") sock.resume();
    switch (behaviour) {
      case "silent":
        return;
      case "slow-banner": {
        const banner = "SSH-2.0-OpenSSH_9.6\r\n";
        let i = 0;
        const t = every(1000, () => {
          if (i < banner.length && !sock.destroyed) sock.write(banner[i++]!);
        });
        sock.on("close", () => clearInterval(t));
        return;
      }
      case "garbage": {
        const t = every(20, () => !sock.destroyed && sock.write("HTTP/1.1 400 Bad Request\r\n"));
        sock.on("close", () => clearInterval(t));
        return;
      }
      default:
        // ssh2 calls the connection handler synchronously from injectSocket.
        authMarks.set(sock, markAuthed);
        ssh.injectSocket(sock);
    }
  };
  const host = options.host ?? "127.0.0.1";
  const listen = async () => {
    const srv = createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(0, host, () => resolve());
    });
    return srv;
  };
  const tcp: NetServer = await listen();
  const extra: NetServer[] = [];
  for (let i = 0; i < (options.extraListeners ?? 0); i++) extra.push(await listen());
  const address = tcp.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");

  return {
    host,
    port: address.port,
    extraPorts: extra.map((srv) => (srv.address() as { port: number }).port),
    hostPublicKey,
    openSockets: () => sockets.size,
    get execs() {
      return state.execs;
    },
    get accepted() {
      return state.accepted;
    },
    get maxPreAuth() {
      return state.maxPreAuth;
    },
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    waitForNoSockets: async (ms = 2000) => {
      const until = Date.now() + ms;
      while (sockets.size > 0) {
        if (Date.now() > until)
          throw new Error(`${sockets.size} server-side sockets still open after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await Promise.all(
        [tcp, ...extra].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))),
      );
    },
  } as TestServer;
}
