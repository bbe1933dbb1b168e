import * as v from "valibot";
import { LIMITS } from "./limits.js";
import { MESSAGE_KINDS, type Message, MessageSchema, PROTOCOL_VERSION } from "./schemas.js";

/** Why a frame could not be decoded. Stable: branch on it, not on the message. */
export type DecodeErrorCode =
  | "TOO_LARGE"
  | "NOT_UTF8"
  | "NOT_JSON"
  | "NOT_OBJECT"
  | "UNKNOWN_VERSION"
  | "UNKNOWN_KIND"
  | "INVALID";

/** A frame that is not a valid message. Returned by {@link decode}, never thrown by it. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
  readonly code: DecodeErrorCode;
  /** Where in the message the first problem is (`seqs.3`, `target`), when known. */
  readonly path: string | undefined;

  constructor(code: DecodeErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

export type DecodeResult<T = Message> = { ok: true; message: T } | { ok: false; error: DecodeError };

/** A message without its version field: {@link encode} adds it. */
export type MessageBody = Message extends infer M ? (M extends Message ? Omit<M, "v"> : never) : never;

export interface DecodeOptions {
  /** Largest frame accepted, in bytes. @default LIMITS.maxFrameBytes (65536) */
  maxBytes?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const KINDS = new Set<string>(MESSAGE_KINDS);

/**
 * Encodes a message as one UTF-8 JSON frame, adding the protocol version.
 * Throws a `TypeError` only for misuse: a message larger than the frame limit.
 *
 * @example
 * const frame = encode({ t: "task", job: "j1", seq: 0, attempt: 1, target: "web1" });
 */
export function encode(message: MessageBody | Message, maxBytes: number = LIMITS.maxFrameBytes): Buffer {
  const frame = Buffer.from(JSON.stringify({ ...message, v: PROTOCOL_VERSION }), "utf8");
  if (frame.length > maxBytes) {
    throw new TypeError(
      `encode: ${message.t} message is ${frame.length} bytes, over the ${maxBytes}-byte limit`,
    );
  }
  return frame;
}

/**
 * Decodes and validates one frame. Never throws: any bad input yields
 * `{ ok: false, error }` with a {@link DecodeError} whose `code` says why.
 */
export function decode(frame: Uint8Array | string, options: DecodeOptions = {}): DecodeResult {
  const maxBytes = options.maxBytes ?? LIMITS.maxFrameBytes;
  try {
    const size = typeof frame === "string" ? Buffer.byteLength(frame, "utf8") : frame.byteLength;
    if (size > maxBytes) {
      return fail("TOO_LARGE", `frame is ${size} bytes, over the ${maxBytes}-byte limit`);
    }
    let text: string;
    if (typeof frame === "string") {
      text = frame;
    } else {
      try {
        text = utf8.decode(frame);
      } catch (cause) {
        return fail("NOT_UTF8", "frame is not valid UTF-8", { cause });
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return fail("NOT_JSON", `frame is not JSON: ${(cause as Error).message}`, { cause });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return fail(
        "NOT_OBJECT",
        `frame is JSON ${Array.isArray(value) ? "array" : typeof value}, expected an object`,
      );
    }
    const record = value as Record<string, unknown>;
    if (record.v !== PROTOCOL_VERSION) {
      return fail(
        "UNKNOWN_VERSION",
        `protocol version ${JSON.stringify(record.v) ?? "missing"} is not supported (this side speaks ${PROTOCOL_VERSION})`,
        { path: "v" },
      );
    }
    if (typeof record.t !== "string" || !KINDS.has(record.t)) {
      return fail("UNKNOWN_KIND", `unknown message kind ${truncate(JSON.stringify(record.t) ?? "missing")}`, {
        path: "t",
      });
    }
    const parsed = v.safeParse(MessageSchema, value, { abortEarly: true });
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = issue ? v.getDotPath(issue) : null;
      return fail(
        "INVALID",
        `invalid ${record.t} message${path ? ` at ${path}` : ""}: ${issue?.message ?? "?"}`,
        {
          path: path ?? undefined,
        },
      );
    }
    return { ok: true, message: parsed.output };
  } catch (cause) {
    // Anything unforeseen (a stack overflow on pathological input) is still a typed error.
    return fail("INVALID", `frame could not be decoded: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

function fail(
  code: DecodeErrorCode,
  message: string,
  options?: { path?: string; cause?: unknown },
): DecodeResult {
  return { ok: false, error: new DecodeError(code, message, options) };
}

function truncate(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
