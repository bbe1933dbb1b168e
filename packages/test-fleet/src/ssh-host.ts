import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { AuthContext, Connection, ServerChannel } from "ssh2";
import type { Behaviour } from "./behaviours.js";
import type { ClientKey } from "./keys.js";
import { shapeSocket } from "./shaping.js";
import type { ExpectedUptime } from "./uptime-text.js";

/** Counters kept by a fleet; see `Fleet.stats()`. */
export interface FleetStats {
  /** TCP connections accepted, over all hosts and behaviours. */
  connections: number;
  /** Connections open right now. */
  open: number;
  /** Successful authentications (a signature verified). */
  authOk: number;
  /** Rejected authentication attempts, not counting the `none` probe every client starts with. */
  authFailed: number;
  /** Exec requests received. */
  execs: number;
  /** Most connections open at the same time that had not (yet) authenticated, including raw ones. */
  maxPreAuth: number;
}

/** What the connection handler needs to know about the host a socket reached. */
export interface HostRuntime {
  index: number;
  behaviour: Behaviour;
  expected: ExpectedUptime;
  /** Connections this host accepted so far. */
  accepted: number;
}

/** Everything shared by all hosts of one fleet. */
export interface HandlerContext {
  clientKey: ClientKey;
  latencyMs: number;
  holdCapMs: number;
  /** Each host destroys its first this many connections as soon as they are accepted. */
  dropFirst: number;
  stats: FleetStats;
  /** Connections open right now that have not authenticated. */
  preAuth: number;
  sockets: Set<Socket>;
  /** Hands a socket to the ssh2 server that serves the right host key. */
  inject(socket: Socket, index: number, alternateKey: boolean): void;
  debug(message: string): void;
}

interface ConnState {
  host: HostRuntime;
  cleanups: Array<() => void>;
  authenticated: boolean;
}

const HUGE_OUTPUT_BYTES = 1024 * 1024;
const HUGE_CHUNK = Buffer.alloc(
  32 * 1024,
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
);
const STREAM_INTERVAL_MS = 100;
const connStates = new WeakMap<Socket, ConnState>();

function countPreAuth(ctx: HandlerContext, delta: number): void {
  ctx.preAuth += delta;
  if (ctx.preAuth > ctx.stats.maxPreAuth) ctx.stats.maxPreAuth = ctx.preAuth;
}

/** Called for every TCP connection a host's listener accepts. */
export function handleSocket(ctx: HandlerContext, host: HostRuntime, socket: Socket): void {
  ctx.stats.connections++;
  host.accepted++;
  if (host.accepted <= ctx.dropFirst) {
    socket.destroy();
    return;
  }
  ctx.stats.open++;
  ctx.sockets.add(socket);
  countPreAuth(ctx, 1);
  const conn: ConnState = { host, cleanups: [], authenticated: false };
  socket.setNoDelay(true);
  socket.on("error", (err) => ctx.debug(`host ${host.index}: socket error ${err.message}`));
  // The client went away: nothing it could still want from us (SSH never half-closes), drop pending writes.
  socket.once("end", () => socket.destroy());
  socket.once("close", () => {
    ctx.stats.open--;
    ctx.sockets.delete(socket);
    if (!conn.authenticated) countPreAuth(ctx, -1);
    for (const cleanup of conn.cleanups) cleanup();
    conn.cleanups.length = 0;
  });
  const holdCap = (): void => {
    const t = setTimeout(() => socket.destroy(), ctx.holdCapMs);
    conn.cleanups.push(() => clearTimeout(t));
  };

  if (host.behaviour === "silent") {
    holdCap();
    socket.resume(); // read and drop, so the client's close is noticed
    return;
  }
  if (host.behaviour === "no-exec-reply") holdCap();
  const slow = host.behaviour === "slow-banner";
  if (ctx.latencyMs > 0 || slow) {
    conn.cleanups.push(
      shapeSocket(socket, { latencyMs: ctx.latencyMs, dripFirstLine: slow, dripIntervalMs: 1000 }),
    );
  }
  if (host.behaviour === "garbage") {
    const junk = randomBytes(1024);
    junk[0] = 0; // never looks like "SSH-"
    socket.resume();
    socket.end(junk);
    return;
  }
  connStates.set(socket, conn);
  ctx.inject(socket, host.index, host.behaviour === "changed-hostkey");
}

/** The ssh2 server's `connection` listener, shared by every host. */
export function handleClient(ctx: HandlerContext, client: Connection): void {
  const socket = (client as unknown as { _sock: Socket })._sock;
  const conn = connStates.get(socket);
  if (conn === undefined) {
    client.end();
    return;
  }
  const { host } = conn;
  client.on("error", (err) => ctx.debug(`host ${host.index}: ${err.message}`));
  client.on("authentication", (auth: AuthContext) => onAuth(ctx, host, auth));
  client.on("ready", () => {
    conn.authenticated = true;
    countPreAuth(ctx, -1);
    if (host.behaviour === "close-after-auth") {
      // end() lets the success message out first; destroy() is the backstop.
      socket.end();
      const t = setTimeout(() => socket.destroy(), ctx.latencyMs + 1_000);
      conn.cleanups.push(() => clearTimeout(t));
    }
  });
  client.on("session", (accept, reject) => {
    if (host.behaviour === "close-after-auth") return reject();
    const session = accept();
    session.on("exec", (acceptExec, _reject, info) => {
      ctx.stats.execs++;
      if (host.behaviour === "no-exec-reply") return;
      runCommand(ctx, conn, acceptExec(), info.command);
    });
  });
}

function onAuth(ctx: HandlerContext, host: HostRuntime, auth: AuthContext): void {
  if (host.behaviour === "password-only") {
    if (auth.method !== "none") ctx.stats.authFailed++;
    auth.reject(["password"]);
    return;
  }
  if (auth.method === "publickey" && host.behaviour !== "auth-reject") {
    if (ctx.clientKey.accepts(auth.key.algo, auth.key.data, auth.blob, auth.signature)) {
      if (auth.signature !== undefined) ctx.stats.authOk++;
      auth.accept();
      return;
    }
  }
  if (auth.method !== "none") ctx.stats.authFailed++;
  auth.reject(["publickey"]);
}

/** What an `exit-status` host writes: two lines, so a client's "first stderr line" can be checked. */
const EXIT_STATUS_STDERR = "uptime: simulated failure\nTry 'uptime --help' for more information.\n";

/** What a `hostile-stderr` host writes: escapes, controls, bidi, a non-UTF-8 byte, a forged line. */
const HOSTILE_STDERR = Buffer.concat([
  Buffer.from(
    "\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u001b[Hnul\u0000bel\u0007 cr\r, host: 10.9.9.9, result: 999 days \u202eevil\u0085 ",
  ),
  Buffer.from([0xff, 0x0a]),
  Buffer.from("worker_id: w_1, host: 10.9.9.8, result: 998 days\n"),
]);

function finish(channel: ServerChannel, code: number): void {
  channel.exit(code);
  channel.end();
}

function runCommand(ctx: HandlerContext, conn: ConnState, channel: ServerChannel, command: string): void {
  const { host } = conn;
  channel.on("error", (err: Error) => ctx.debug(`host ${host.index}: channel ${err.message}`));
  switch (host.behaviour) {
    case "exit-status":
      channel.stderr.write(EXIT_STATUS_STDERR);
      finish(channel, 3);
      return;
    case "hostile-stderr":
      channel.stderr.write(HOSTILE_STDERR);
      finish(channel, 1);
      return;
    case "huge-output": {
      let sent = 0;
      const pump = (): void => {
        while (sent < HUGE_OUTPUT_BYTES) {
          const n = Math.min(HUGE_CHUNK.length, HUGE_OUTPUT_BYTES - sent);
          sent += n;
          if (!channel.write(HUGE_CHUNK.subarray(0, n))) {
            channel.once("drain", pump);
            return;
          }
        }
        finish(channel, 0);
      };
      pump();
      return;
    }
    case "close-without-exit":
      channel.write("partial");
      channel.close();
      return;
    case "stream-forever": {
      const line = `${host.expected.raw}\n`;
      const stop = (): void => {
        clearInterval(tick);
        clearTimeout(cap);
      };
      const tick = setInterval(() => channel.write(line), STREAM_INTERVAL_MS);
      const cap = setTimeout(() => {
        stop();
        finish(channel, 0);
      }, ctx.holdCapMs);
      channel.write(line);
      channel.once("close", stop);
      conn.cleanups.push(stop);
      return;
    }
  }
  const reply = answer(command, host.expected);
  if (reply.stdout) channel.write(reply.stdout);
  if (reply.stderr) channel.stderr.write(reply.stderr);
  finish(channel, reply.code);
}

/** What a healthy host answers to `command`. */
export function answer(
  command: string,
  expected: ExpectedUptime,
): { stdout: string; stderr: string; code: number } {
  const c = command.trim();
  if (/\/proc\/uptime\b/.test(c)) {
    const idle = (expected.seconds * 1.73).toFixed(2);
    return { stdout: `${expected.seconds}.00 ${idle}\n`, stderr: "", code: 0 };
  }
  if (/(^|[\s/;&|=])uptime(\s|;|$)/.test(c)) return { stdout: `${expected.raw}\n`, stderr: "", code: 0 };
  if (c === "true" || c === ":" || c === "") return { stdout: "", stderr: "", code: 0 };
  if (c.startsWith("echo ")) return { stdout: `${c.slice(5)}\n`, stderr: "", code: 0 };
  const name = c.split(/\s+/)[0];
  return { stdout: "", stderr: `sh: 1: ${name}: not found\n`, code: 127 };
}
