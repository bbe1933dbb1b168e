/**
 * The closed set of error codes a probe can report. See the README for what each means.
 */
export const PROBE_ERROR_CODES = [
  "DNS",
  "REFUSED",
  "UNREACHABLE",
  "CONNECT_TIMEOUT",
  "HANDSHAKE",
  "AUTH",
  "AGENT",
  "HOSTKEY_UNKNOWN",
  "HOSTKEY_MISMATCH",
  "HOSTKEY_REVOKED",
  "COMMAND_TIMEOUT",
  "DEADLINE",
  "EXIT_STATUS",
  "OUTPUT_TOO_LARGE",
  "PARSE",
  "CLOSED",
  "ABORTED",
  "KEY",
  "LOCAL",
  "BAD_TARGET",
] as const;

/** One of {@link PROBE_ERROR_CODES}. */
export type ProbeErrorCode = (typeof PROBE_ERROR_CODES)[number];

/** Codes worth another attempt when `retries` is set. */
export const RETRIABLE_CODES: ReadonlySet<ProbeErrorCode> = new Set([
  "CONNECT_TIMEOUT",
  "UNREACHABLE",
  "HANDSHAKE",
  "CLOSED",
  "AGENT",
]);

/** A classified failure of one probe stage; carries the underlying error as `cause`. */
export class ProbeError extends Error {
  readonly code: ProbeErrorCode;
  readonly exitStatus: number | undefined;
  /** The ProxyJump hop that failed, when it was a bastion and not the target. */
  hop: string | undefined = undefined;
  constructor(code: ProbeErrorCode, message: string, options?: { cause?: unknown; exitStatus?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProbeError";
    this.code = code;
    this.exitStatus = options?.exitStatus;
  }
}

/**
 * The server closed or reset the connection before its SSH banner: the way sshd drops connections over
 * `MaxStartups`. Always worth another attempt after a backoff (see `handshakeRetries`).
 */
export class PreBannerError extends ProbeError {}

/** Where a connection was when something went wrong. */
export type Stage = "connect" | "handshake" | "auth" | "exec";

const DNS_ERRNOS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL"]);
const UNREACHABLE_ERRNOS = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"]);
const LOCAL_ERRNOS = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  level?: unknown;
}

/**
 * The one place where ssh2's `err.level` and socket errnos become our codes. The original message is kept
 * (prefixed with the errno) so humans still see what the system said.
 */
export function classifyError(err: unknown, stage: Stage, host: string): ProbeError {
  if (err instanceof ProbeError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  const errno = typeof e.code === "string" ? e.code : undefined;
  const level = typeof e.level === "string" ? e.level : undefined;
  const text = typeof e.message === "string" ? e.message : String(err);
  const message = errno && !text.includes(errno) ? `${errno} ${text}` : text;
  const opts = { cause: err };

  if (errno !== undefined) {
    if (DNS_ERRNOS.has(errno)) return new ProbeError("DNS", `${message} (${host})`, opts);
    if (errno === "ECONNREFUSED") return new ProbeError("REFUSED", message, opts);
    if (UNREACHABLE_ERRNOS.has(errno)) return new ProbeError("UNREACHABLE", message, opts);
    if (errno === "ETIMEDOUT" && stage === "connect") return new ProbeError("CONNECT_TIMEOUT", message, opts);
    if (LOCAL_ERRNOS.has(errno)) {
      const hint =
        errno === "EMFILE" ? " (open-files limit reached: lower concurrency or raise `ulimit -n`)" : "";
      return new ProbeError("LOCAL", `${message}${hint}`, opts);
    }
  }
  switch (level) {
    case "client-dns":
      return new ProbeError("DNS", message, opts);
    case "client-authentication":
      return new ProbeError("AUTH", message, opts);
    case "agent":
      // Talking to our own ssh-agent failed: nothing the host did.
      return new ProbeError("AGENT", message, opts);
    case "client-timeout":
    case "handshake":
    case "protocol":
      return new ProbeError(stage === "exec" ? "CLOSED" : "HANDSHAKE", message, opts);
  }
  // A reset or end of stream: what it means depends on how far we got.
  if (stage === "connect") return new ProbeError("UNREACHABLE", message, opts);
  if (stage === "exec") return new ProbeError("CLOSED", message, opts);
  return new ProbeError("HANDSHAKE", message, opts);
}
