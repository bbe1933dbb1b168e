import { createHash } from "node:crypto";
import { connect as netConnect } from "node:net";
import ssh2, { type ParsedKey } from "ssh2";
import {
  AgentError,
  AgentLink,
  asError,
  frameOf,
  LIST_FRAME,
  parseIdentities,
  readString,
  SSH_AGENT_FAILURE,
  SSH_AGENT_IDENTITIES_ANSWER,
  SSH_AGENT_RSA_SHA2_256,
  SSH_AGENT_RSA_SHA2_512,
  SSH_AGENT_SIGN_RESPONSE,
  SSH_AGENTC_SIGN_REQUEST,
} from "./agent-wire.js";

/*
 * ssh-agent over a pool of long-lived connections. ssh2's own agent client opens a new connection to the agent's
 * socket for every request; a burst of hundreds of logins then overflows the agent's listen backlog and some
 * logins fail as if the host had refused the key. Here all logins share up to 32 connections, opened as requests
 * overlap, with one request in flight on each and a queue for the rest, and the identity list is asked for once
 * and kept until the agent changes.
 *
 * Why 32 and one request each: OpenSSH's agent is single-threaded; each round of its poll loop reads one request
 * from every connection that has one, answers them all, and writes the answers in the next round. The more
 * connections carry a request, the more answers arrive together and the fewer times our event loop wakes for
 * them: with 32 instead of 4, this client's CPU per signature fell from 68 to 32-41 µs, while the agent's
 * rate stayed about the same (bench/agent-rate.mjs). Several requests on one connection would batch too, but older OpenSSH agents answer
 * only the first request of a read until more bytes arrive, and the connection stalls.
 */

/** Tuning of an {@link AgentPool}; the defaults suit thousands of concurrent logins. */
export interface AgentPoolOptions {
  /** Long-lived connections to the agent, opened as concurrent requests need them. @default 32 */
  connections?: number;
  /** Requests written to one connection before its answer is read; more wait in a queue. @default 1 */
  maxInFlight?: number;
  /** Waits before each retry of a request the agent did not answer (its connection failed or closed).
   * @default [50, 200, 600] */
  retryDelaysMs?: readonly number[];
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Counters of an {@link AgentPool}. */
export interface AgentPoolStats {
  /** Connections opened to the agent's socket. */
  connects: number;
  /** Requests answered (identity lists and signatures). */
  requests: number;
  /** Identity lists asked for. */
  listings: number;
  /** Requests retried after their connection failed. */
  retries: number;
  /** Connections open now. */
  open: number;
  /** Requests waiting for room on a connection. */
  queued: number;
}

/**
 * ssh-agent client shared by all connections of a probe: up to 32 long-lived connections with a queue, the
 * identity list kept until the agent changes (a connection to it is lost, or it refuses to sign with a listed
 * key), and requests the agent did not answer retried after a short wait.
 */
export class AgentPool {
  private readonly links: Array<AgentLink | undefined>;
  private readonly connecting: Array<Promise<AgentLink> | undefined>;
  private readonly inFlight: number[];
  private readonly waiting: Array<() => void> = [];
  private identities: Promise<ParsedKey[]> | undefined;
  /** What {@link identities} resolved to, while it is still the current listing. */
  private listed: ParsedKey[] | undefined;
  private closed = false;
  /** When the agent was first found unreachable in the current outage; undefined while it answers. */
  private downSince: number | undefined;
  private readonly maxInFlight: number;
  private readonly retryDelaysMs: readonly number[];
  /** A request that starts after the agent has been unreachable this long is not retried. */
  private readonly retryWindowMs: number;
  private readonly counters = { connects: 0, requests: 0, listings: 0, retries: 0 };

  constructor(
    readonly socketPath: string,
    options: AgentPoolOptions = {},
  ) {
    const n = options.connections ?? 32;
    this.links = new Array<AgentLink | undefined>(n).fill(undefined);
    this.connecting = new Array<Promise<AgentLink> | undefined>(n).fill(undefined);
    this.inFlight = new Array<number>(n).fill(0);
    this.maxInFlight = options.maxInFlight ?? 1;
    this.retryDelaysMs = options.retryDelaysMs ?? [50, 200, 600];
    this.retryWindowMs = this.retryDelaysMs.reduce((a, b) => a + b, 0);
  }

  stats(): AgentPoolStats {
    return {
      ...this.counters,
      open: this.links.filter((l) => l !== undefined && !l.closed).length,
      queued: this.waiting.length,
    };
  }

  /** The agent's keys, asked for once and shared until the agent changes. */
  listIdentities(signal?: AbortSignal): Promise<ParsedKey[]> {
    if (!this.identities) {
      this.counters.listings++;
      const listing = this.send(LIST_FRAME, signal, SSH_AGENT_IDENTITIES_ANSWER).then((body) =>
        parseIdentities(body),
      );
      this.identities = listing;
      listing.then(
        (keys) => {
          if (this.identities !== listing) return;
          // An empty agent (keys removed, or locked) is asked again by the next login: keys may be back by then.
          if (keys.length > 0) this.listed = keys;
          else this.identities = undefined;
        },
        // A failed listing is not kept: the next login asks again.
        () => {
          if (this.identities === listing) this.identities = undefined;
        },
      );
    }
    const list = this.identities;
    if (!signal) return list;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      list.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** The identity list when it is known and still valid: every login after the first takes it from here. */
  knownIdentities(): ParsedKey[] | undefined {
    return this.listed;
  }

  /** The agent may have changed (restarted, a key removed, locked): list its keys again on the next login. */
  private forgetIdentities(): void {
    this.identities = undefined;
    this.listed = undefined;
  }

  /** Asks the agent to sign `data` with `key` (one of its identities); resolves to the raw signature. */
  async sign(key: ParsedKey, data: Buffer, hash: string | undefined, signal?: AbortSignal): Promise<Buffer> {
    const blob = key.getPublicSSH();
    let flags = 0;
    if (key.type === "ssh-rsa") {
      if (hash === "sha256") flags = SSH_AGENT_RSA_SHA2_256;
      else if (hash === "sha512") flags = SSH_AGENT_RSA_SHA2_512;
    }
    // One buffer for the whole message, written as is.
    const frame = frameOf(SSH_AGENTC_SIGN_REQUEST, 4 + blob.length + 4 + data.length + 4);
    let p = frame.writeUInt32BE(blob.length, 5);
    p += blob.copy(frame, p);
    p = frame.writeUInt32BE(data.length, p);
    p += data.copy(frame, p);
    frame.writeUInt32BE(flags, p);
    let body: Buffer;
    try {
      body = await this.send(frame, signal, SSH_AGENT_SIGN_RESPONSE);
    } catch (err) {
      if (err instanceof AgentError && !err.unreachable) {
        // The agent no longer has this key (removed, locked, or a new agent): list again next time.
        this.forgetIdentities();
        throw new AgentError(
          `agent refused to sign with ${key.type} ${fingerprintOf(blob)} (removed from the agent, or the agent is locked?)`,
          false,
        );
      }
      throw err;
    }
    // string signature = string algorithm + string blob; ssh2 wants the blob.
    const outer = readString(body, 1);
    const algo = outer && readString(outer[0], 0);
    const sig = outer && algo && readString(outer[0], algo[1]);
    if (!sig) throw new AgentError("agent sent a malformed signature", false);
    return sig[0];
  }

  /** An ssh2 agent for one connection: its requests go through this pool and stop when `signal` aborts. */
  forConnection(signal: AbortSignal): ConnectionAgent {
    return new ConnectionAgent(this, signal);
  }

  /** Closes every connection to the agent; later requests fail. */
  close(): void {
    this.closed = true;
    for (const link of this.links) link?.close("agent pool closed");
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async send(frame: Buffer, signal: AbortSignal | undefined, want: number): Promise<Buffer> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const body = await this.sendOnce(frame, signal);
        this.counters.requests++;
        if (body[0] === SSH_AGENT_FAILURE) throw new AgentError("agent answered with failure", false);
        if (body[0] !== want) {
          throw new AgentError(`agent answered with message type ${body[0]} instead of ${want}`, false);
        }
        return body;
      } catch (err) {
        const delay = this.retryDelaysMs[attempt];
        if (!(err instanceof AgentError && err.unreachable) || delay === undefined || this.closed) throw err;
        // Retries bridge a restart or a dropped connection; an agent gone for longer fails each request at once
        // (each still tries to connect, so a new agent at the same socket is used as soon as it is there).
        if (this.downSince !== undefined && started - this.downSince > this.retryWindowMs) throw err;
        if (signal?.aborted) throw signal.reason;
        this.counters.retries++;
        await sleep(delay, signal);
      }
    }
  }

  private async sendOnce(frame: Buffer, signal?: AbortSignal): Promise<Buffer> {
    if (this.closed) throw new AgentError("agent pool closed", true);
    let slot = this.leastBusy();
    while (this.inFlight[slot]! >= this.maxInFlight) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.closed) throw new AgentError("agent pool closed", true);
      if (signal?.aborted) {
        // Woken for a free connection we no longer want: hand it on.
        this.waiting.shift()?.();
        throw signal.reason;
      }
      slot = this.leastBusy();
    }
    this.inFlight[slot]!++;
    try {
      const link = await this.link(slot);
      return await link.request(frame);
    } finally {
      this.inFlight[slot]!--;
      this.waiting.shift()?.();
    }
  }

  private leastBusy(): number {
    let best = 0;
    for (let i = 1; i < this.inFlight.length; i++) {
      if (this.inFlight[i]! < this.inFlight[best]!) best = i;
    }
    return best;
  }

  private link(slot: number): Promise<AgentLink> {
    const open = this.links[slot];
    if (open && !open.closed) return Promise.resolve(open);
    let pending = this.connecting[slot];
    if (!pending) {
      pending = new Promise<AgentLink>((resolve, reject) => {
        this.counters.connects++;
        const sock = netConnect(this.socketPath);
        const onError = (err: NodeJS.ErrnoException) => {
          sock.destroy();
          reject(
            new AgentError(
              `cannot connect to ssh-agent at ${this.socketPath}: ${err.code ?? err.message}`,
              true,
              {
                cause: err,
              },
            ),
          );
        };
        sock.once("error", onError);
        sock.once("connect", () => {
          sock.removeListener("error", onError);
          this.downSince = undefined;
          const link = new AgentLink(sock, (lost) => {
            if (this.links[slot] === lost) this.links[slot] = undefined;
            // The agent may have been restarted with other keys: list them again.
            this.forgetIdentities();
          });
          this.links[slot] = link;
          resolve(link);
        });
      });
      this.connecting[slot] = pending;
      const clear = () => {
        if (this.connecting[slot] === pending) this.connecting[slot] = undefined;
      };
      pending.then(clear, (err: unknown) => {
        clear();
        this.downSince ??= Date.now();
        // An agent we cannot reach may come back with other keys.
        this.forgetIdentities();
        return err;
      });
    }
    return pending;
  }
}

/** The face ssh2 sees for one connection. */
export class ConnectionAgent extends ssh2.BaseAgent {
  /** How many keys the agent listed for this connection; undefined until it has listed them. */
  listed: number | undefined;

  constructor(
    private readonly pool: AgentPool,
    private readonly signal: AbortSignal,
  ) {
    super();
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    // The usual case, after the first login: no promise, no abort listener (ssh2 defers the callback itself).
    const known = this.pool.knownIdentities();
    if (known) {
      this.listed = known.length;
      cb(undefined, known);
      return;
    }
    this.pool.listIdentities(this.signal).then(
      (keys) => {
        this.listed = keys.length;
        cb(undefined, keys);
      },
      (err: unknown) => cb(asError(err)),
    );
  }

  override sign(
    pubKey: ParsedKey,
    data: Buffer,
    options: unknown,
    cb?: (err: Error | undefined, signature?: Buffer) => void,
  ): void {
    const callback = typeof options === "function" ? (options as typeof cb) : cb;
    const hash =
      typeof options === "object" && options !== null ? (options as { hash?: unknown }).hash : undefined;
    this.pool.sign(pubKey, data, typeof hash === "string" ? hash : undefined, this.signal).then(
      (sig) => callback?.(undefined, sig),
      (err: unknown) => callback?.(asError(err)),
    );
  }
}

export { AgentError, isAgentError } from "./agent-wire.js";
