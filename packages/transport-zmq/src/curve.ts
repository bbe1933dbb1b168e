import { type Logger, optionError, optionNames } from "@uptime/protocol/check";
import * as zmq from "zeromq";
import { optionsObject } from "./options.js";
import type { TrustList } from "./trust.js";
import { assertZ85Key, z85Encode } from "./z85.js";

/** CURVE for a server (the binding side): its key pair and the client public keys it admits. */
export interface CurveServerOptions {
  /** The server's public key (Z85). Clients need it as their `serverKey`. */
  publicKey: string;
  /** The server's secret key (Z85). */
  secretKey: string;
  /** Client public keys (Z85) admitted by the ZAP handler. Everyone else is refused. */
  allow: string[];
}

/** CURVE for a client (the connecting side). */
export interface CurveClientOptions {
  publicKey: string;
  secretKey: string;
  /** The public key of the server it connects to. */
  serverKey: string;
}

/** The ZAP domain our servers enforce. */
export const ZAP_DOMAIN = "uptime";
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

const SERVER_NAMES = optionNames<CurveServerOptions>()(["publicKey", "secretKey", "allow"]);

/**
 * Validates server options (named `option`, e.g. `curve`) and returns the allow-list as a Set. Throws a
 * TypeError on misuse: "Expected \`curve.allow[0]\` to be a 40-character Z85 CURVE key, got a 5-character string".
 */
export function validateCurveServer(curve: CurveServerOptions, option: string): Set<string> {
  const o = optionsObject(curve, SERVER_NAMES, option, `${option}.`);
  assertZ85Key(o.publicKey, `${option}.publicKey`);
  assertZ85Key(o.secretKey, `${option}.secretKey`);
  if (!Array.isArray(o.allow)) throw optionError(`${option}.allow`, "an array of Z85 public keys", o.allow);
  o.allow.forEach((k, i) => {
    assertZ85Key(k, `${option}.allow[${i}]`);
  });
  return new Set(o.allow as string[]);
}

/** Makes `socket` a CURVE server with ZAP enforced (call before bind). */
export function applyCurveServer(socket: zmq.Socket, curve: CurveServerOptions): void {
  socket.curveServer = true;
  socket.curveSecretKey = curve.secretKey;
  socket.curvePublicKey = curve.publicKey;
  socket.zapDomain = ZAP_DOMAIN;
  socket.zapEnforceDomain = true;
}

/** Makes `socket` a CURVE client of the server with `serverKey` (call before connect). */
export function applyCurveClient(socket: zmq.Socket, curve: CurveClientOptions, option: string): void {
  assertZ85Key(curve.publicKey, `${option}.publicKey`);
  assertZ85Key(curve.secretKey, `${option}.secretKey`);
  assertZ85Key(curve.serverKey, `${option}.serverKey`);
  socket.curveServerKey = curve.serverKey;
  socket.curvePublicKey = curve.publicKey;
  socket.curveSecretKey = curve.secretKey;
}

/** What a {@link ZapHandler} admits. */
export interface ZapPolicy {
  /** CURVE client keys (Z85) admitted; undefined: no CURVE, the NULL mechanism is expected. */
  allow: Set<string> | undefined;
  /** Networks peers must come from; undefined: any address. */
  trust: TrustList | undefined;
}

/**
 * A ZAP handler (RFC 27) for one server socket. With CURVE it admits only allow-listed client
 * keys; without, it admits the NULL mechanism. Either way a peer whose address lies outside the
 * trusted networks is refused (ZeroMQ runs ZAP for NULL too when the socket has a `zapDomain`).
 * It binds `inproc://zeromq.zap.01` in its own context, so every server gets its own handler and
 * policy: create the server socket in `context`.
 */
export class ZapHandler {
  readonly context = new zmq.Context();
  private readonly socket = new zmq.Reply({ context: this.context });
  private loop: Promise<void> | undefined;
  /** Handshakes refused. */
  refused = 0;
  /** Handshakes admitted. */
  admitted = 0;

  constructor(
    private readonly policy: ZapPolicy,
    private readonly logger: Logger,
    private readonly onRefused: (address: string, reason: string) => void,
  ) {
    this.socket.linger = 0;
  }

  /** Binds the handler (once; a server may retry its own bind). */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.socket.bind(ZAP_ENDPOINT);
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const reply = this.answer(frames);
        await this.socket.send(reply);
      }
    } catch (error) {
      if (!this.socket.closed) this.logger.warn?.("ZAP handler stopped", { error: String(error) });
    }
  }

  private answer(frames: Buffer[]): (string | Buffer)[] {
    const [version, requestId, domain, address, , mechanism, key] = frames;
    const id = requestId ?? Buffer.alloc(0);
    const where = address?.toString() ?? "?";
    const deny = (reason: string) => {
      this.refused++;
      // Logged (rate-limited) by the owner's reject counter, not one line per handshake here.
      this.onRefused(where, reason);
      return ["1.0", id, "400", reason, "", ""];
    };
    if (version?.toString() !== "1.0") return deny("unsupported ZAP version");
    if (domain?.toString() !== ZAP_DOMAIN) return deny("wrong ZAP domain");
    const { allow, trust } = this.policy;
    if (trust && !trust.has(where)) return deny(`address ${where} is not in a trusted network`);
    if (!allow) {
      if (mechanism?.toString() !== "NULL") return deny("this server does not use CURVE");
      this.admitted++;
      return ["1.0", id, "200", "OK", "", ""];
    }
    if (mechanism?.toString() !== "CURVE") return deny("CURVE required");
    if (key?.length !== 32) return deny("no client key");
    const z85 = z85Encode(key);
    if (!allow.has(z85)) return deny(`client key ${z85.slice(0, 8)}… is not allow-listed`);
    this.admitted++;
    return ["1.0", id, "200", "OK", z85, ""];
  }
}
