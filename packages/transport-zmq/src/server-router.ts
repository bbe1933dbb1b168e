import { decode, type Message } from "@uptime/protocol";
import * as zmq from "zeromq";
import { applyCurveServer, type CurveServerOptions, validateCurveServer, ZapHandler } from "./curve.js";
import type { Logger } from "./logger.js";
import { configureSocket, MAX_BATCH, type RejectCode } from "./socket-util.js";

export interface ServerRouterOptions {
  /** Names the option in errors: "Dispatcher options.curve". */
  owner: string;
  curve: CurveServerOptions | undefined;
  lingerMs: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  logger: Logger;
  /** A client's CURVE handshake was refused by the allow-list. */
  onAuthRefused: (address: string, reason: string) => void;
}

/**
 * The bound ROUTER of the dispatcher and of the collector: options set deliberately, and with
 * CURVE a ZAP handler in the socket's own context that admits only allow-listed keys.
 * Sends to a peer never wait: `mandatory` plus `sendTimeout = 0` make a send to an unknown or
 * full peer fail at once, so one stuck worker never stalls the others.
 */
export function createServerRouter(o: ServerRouterOptions): {
  router: zmq.Router;
  zap: ZapHandler | undefined;
} {
  let zap: ZapHandler | undefined;
  if (o.curve) {
    const allow = validateCurveServer(o.curve, `${o.owner} options.curve`);
    zap = new ZapHandler(allow, o.logger, o.onAuthRefused);
  }
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
  return { router, zap };
}

/** Starts the ZAP handler (before the bind, as ZeroMQ requires), binds, and returns the real endpoint. */
export async function bindServerRouter(
  router: zmq.Router,
  zap: ZapHandler | undefined,
  endpoint: string,
): Promise<string> {
  if (zap) await zap.start();
  await router.bind(endpoint);
  return router.lastEndpoint ?? endpoint;
}

/**
 * Reads a server ROUTER until it is closed, handing on each protocol message it carries (see
 * {@link decodeRouterFrames}). A handler that throws is logged: a bug on one message must not stop
 * the server. `afterEach` may return a promise to wait for before reading on (backpressure).
 */
export async function serveRouter(
  router: zmq.Router,
  o: {
    owner: string;
    logger: Logger;
    closed: () => boolean;
    onMessage: (message: Message, identity: Buffer) => void;
    onReject: (code: RejectCode, message: string, peer: string) => void;
    afterEach?: () => Promise<void> | undefined;
  },
): Promise<void> {
  try {
    for await (const frames of router) {
      try {
        decodeRouterFrames(frames, o.onMessage, o.onReject);
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
