import { decode, type Message } from "@uptime/protocol";
import type { Logger } from "@uptime/protocol/check";
import * as zmq from "zeromq";
import {
  applyCurveServer,
  type CurveServerOptions,
  validateCurveServer,
  ZAP_DOMAIN,
  ZapHandler,
} from "./curve.js";
import { configureSocket, MAX_BATCH, RECEIVE_BATCH, type RejectCode, yieldToLoop } from "./socket-util.js";
import { isLocalEndpoint, LOOPBACK_NETWORKS, TrustList } from "./trust.js";

/** What a server exposes, for the apps to say at start-up. */
export interface Exposure {
  /** The bound endpoint (or the one asked for, before `bind`). */
  endpoint: string;
  /** Whether CURVE (encryption and an allow-list of client keys) is on. */
  curve: boolean;
  /** Networks peers may connect from, or "any" (CURVE without a trust list), or "local" (ipc/inproc). */
  trusted: readonly string[] | "any" | "local";
}

/** The trust list a server enforces: the operator's, else loopback without CURVE, else none. */
export function serverTrust(
  trust: readonly string[] | undefined,
  curve: boolean,
  endpoint: string,
  option: string,
): TrustList | undefined {
  if (isLocalEndpoint(endpoint)) return undefined;
  if (trust !== undefined) return new TrustList(trust, option);
  return curve ? undefined : new TrustList(LOOPBACK_NETWORKS);
}

/** The exposure of a server bound at `endpoint` with `trust` and `curve`. */
export function exposureOf(endpoint: string, curve: boolean, trust: TrustList | undefined): Exposure {
  if (isLocalEndpoint(endpoint)) return { endpoint, curve, trusted: "local" };
  return { endpoint, curve, trusted: trust ? trust.networks : "any" };
}

export interface ServerRouterOptions {
  /** Names the server in log lines: "Dispatcher". */
  owner: string;
  curve: CurveServerOptions | undefined;
  /** Checked by ZAP on every handshake; undefined: any address (CURVE, or a local endpoint). */
  trust: TrustList | undefined;
  lingerMs: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  logger: Logger;
  /** A handshake was refused by ZAP (address not trusted, or key not allow-listed). */
  onAuthRefused: (address: string, reason: string) => void;
}

/**
 * The bound ROUTER of the dispatcher and of the collector: options set deliberately, and a ZAP
 * handler in the socket's own context that admits only trusted addresses and, with CURVE, only
 * allow-listed keys.
 * Sends to a peer never wait: `mandatory` plus `sendTimeout = 0` make a send to an unknown or
 * full peer fail at once, so one stuck worker never stalls the others.
 */
export function createServerRouter(o: ServerRouterOptions): {
  router: zmq.Router;
  zap: ZapHandler | undefined;
} {
  const allow = o.curve ? validateCurveServer(o.curve, "curve") : undefined;
  const zap =
    allow || o.trust ? new ZapHandler({ allow, trust: o.trust }, o.logger, o.onAuthRefused) : undefined;
  const router = new zmq.Router(zap ? { context: zap.context } : {});
  configureSocket(router, {
    lingerMs: o.lingerMs,
    sendHighWaterMark: o.sendHighWaterMark,
    receiveHighWaterMark: o.receiveHighWaterMark,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    heartbeatTimeoutMs: o.heartbeatTimeoutMs,
  });
  router.mandatory = true;
  router.handover = true;
  router.sendTimeout = 0;
  if (o.curve) applyCurveServer(router, o.curve);
  else if (zap) {
    // ZeroMQ asks ZAP about NULL-mechanism peers too once the socket has a domain.
    router.zapDomain = ZAP_DOMAIN;
    router.zapEnforceDomain = true;
  }
  return { router, zap };
}

/** Starts the ZAP handler (before the bind, as ZeroMQ requires), binds, and returns the real endpoint. */
export async function bindServerRouter(
  router: zmq.Router,
  zap: ZapHandler | undefined,
  endpoint: string,
): Promise<string> {
  if (zap) await zap.start();
  try {
    await router.bind(endpoint);
  } catch (error) {
    // ZeroMQ says only "Address already in use": name the endpoint, keep the code (EADDRINUSE, ...).
    const code = (error as { code?: unknown }).code;
    const why = code === "EADDRINUSE" ? "address already in use (another sender or sink?)" : String(error);
    throw Object.assign(new Error(`cannot bind ${endpoint}: ${why}`, { cause: error }), { code });
  }
  return router.lastEndpoint ?? endpoint;
}

/** Malformed frames after which a peer (routing id) is cut off: its messages are dropped unread. */
export const CUT_OFF_AFTER = 100;
/** Most peers remembered for their malformed-frame count or cut-off. */
const MAX_TRACKED_PEERS = 10_000;

/**
 * Reads a server ROUTER until it is closed, handing on each protocol message it carries (see
 * {@link decodeRouterFrames}). A handler that throws is logged: a bug on one message must not stop
 * the server. `afterEach` may return a promise to wait for before reading on (backpressure).
 *
 * Fair under flood: after {@link RECEIVE_BATCH} messages the loop yields to the event loop, so that
 * heartbeats and sends keep their schedule however fast peers send; a peer whose malformed frames
 * reach {@link CUT_OFF_AFTER} is cut off (reported once through `onCutOff`), its messages dropped
 * unread from then on.
 */
export async function serveRouter(
  router: zmq.Router,
  o: {
    owner: string;
    logger: Logger;
    closed: () => boolean;
    onMessage: (message: Message, identity: Buffer) => void;
    onReject: (code: RejectCode, message: string, peer: string) => void;
    onCutOff?: (identity: Buffer, malformed: number) => void;
    afterEach?: () => Promise<void> | undefined;
  },
): Promise<void> {
  const malformed = new Map<string, number>();
  const cutOff = new Set<string>();
  const reject = (code: RejectCode, message: string, peer: string) => {
    o.onReject(code, message, peer);
    const n = (malformed.get(peer) ?? 0) + 1;
    if (malformed.size >= MAX_TRACKED_PEERS && !malformed.has(peer)) malformed.clear();
    malformed.set(peer, n);
    if (n === CUT_OFF_AFTER) {
      if (cutOff.size >= MAX_TRACKED_PEERS) cutOff.clear();
      cutOff.add(peer);
      malformed.delete(peer);
      o.onReject("CUT_OFF", `peer cut off after ${n} malformed frames; its messages are dropped`, peer);
      o.onCutOff?.(Buffer.from(peer, "hex"), n);
    }
  };
  let handled = 0;
  try {
    for await (const frames of router) {
      if (++handled % RECEIVE_BATCH === 0) await yieldToLoop();
      if (cutOff.size > 0 && cutOff.has(frames[0]!.toString("hex"))) continue;
      try {
        decodeRouterFrames(frames, o.onMessage, reject);
      } catch (error) {
        o.logger.error?.(`${o.owner} failed to handle a message`, { error: String(error) });
      }
      const wait = o.afterEach?.();
      if (wait) await wait;
    }
  } catch (error) {
    if (!o.closed()) o.logger.error?.(`${o.owner} receive loop stopped`, { error: String(error) });
  }
}

/**
 * Splits one message off a bound ROUTER (`[routing id, body...]`) into protocol messages:
 * each body frame is decoded and validated on its own, a bad one is rejected alone.
 */
function decodeRouterFrames(
  frames: Buffer[],
  onMessage: (message: Message, identity: Buffer) => void,
  reject: (code: RejectCode, message: string, peer: string) => void,
): void {
  const identity = frames[0]!;
  if (frames.length < 2 || frames.length > MAX_BATCH + 1) {
    reject(
      "BAD_FRAMES",
      `expected 1 to ${MAX_BATCH} body frames, got ${frames.length - 1}`,
      identity.toString("hex"),
    );
    return;
  }
  for (let i = 1; i < frames.length; i++) {
    const r = decode(frames[i]!);
    if (r.ok) onMessage(r.message, identity);
    else reject(r.error.code, r.error.message, identity.toString("hex"));
  }
}

/**
 * One line saying what a server exposes, for start-up logs.
 * @example
 * describeExposure(dispatcher.exposure);
 * // "tcp://0.0.0.0:5557, CURVE off (plain text, no client authentication), peers from 127.0.0.0/8, ::1/128 only"
 */
export function describeExposure(e: Exposure): string {
  const curve = e.curve
    ? "CURVE on (encrypted, allow-listed keys only)"
    : "CURVE off (plain text, no client authentication)";
  const peers =
    e.trusted === "local"
      ? "local processes only"
      : e.trusted === "any"
        ? "peers from any address"
        : `peers from ${e.trusted.join(", ")} only`;
  return `${e.endpoint}, ${curve}, ${peers}`;
}

/**
 * The start-up warning for a server that admits machines other than this one without CURVE, else
 * undefined. `can` says what such a peer can do ("take tasks and send receipts").
 */
export function exposureWarning(e: Exposure, can: string): string | undefined {
  if (e.curve || !Array.isArray(e.trusted) || e.trusted.every((n) => LOOPBACK_NETWORKS.includes(n)))
    return undefined;
  return `without CURVE, any machine in ${e.trusted.join(", ")} can ${can}; use --curve-secret to authenticate workers`;
}
