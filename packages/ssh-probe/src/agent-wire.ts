// The ssh-agent wire protocol (draft-miller-ssh-agent): message types, framing, one connection with its queue
// of pending answers, the identity list parser, and AgentError. AgentPool (agent.ts) runs the connections.
import type { Socket } from "node:net";
import ssh2, { type ParsedKey } from "ssh2";

export const SSH_AGENT_FAILURE = 5;
export const SSH_AGENTC_REQUEST_IDENTITIES = 11;
export const SSH_AGENT_IDENTITIES_ANSWER = 12;
export const SSH_AGENTC_SIGN_REQUEST = 13;
export const SSH_AGENT_SIGN_RESPONSE = 14;
export const SSH_AGENT_RSA_SHA2_256 = 2;
export const SSH_AGENT_RSA_SHA2_512 = 4;
/** The agent's answers are small; anything larger is a broken peer. */
export const MAX_MESSAGE = 256 * 1024;

/**
 * A failure to talk to the agent: no socket, connection refused or dropped, a malformed answer, or a refusal
 * to sign with a key it listed. ssh2 reports it with `level: "agent"`; the probe maps it to `AGENT`, not `AUTH`.
 */
export class AgentError extends Error {
  readonly level = "agent";
  /** True when the agent could not be reached or its connection failed (a retry may succeed). */
  readonly unreachable: boolean;
  constructor(message: string, unreachable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentError";
    this.unreachable = unreachable;
  }
}

/** Is `err` (as ssh2 reports it) a failure to talk to the agent? */
export function isAgentError(err: unknown): err is AgentError {
  return err instanceof AgentError;
}

export interface Pending {
  resolve(body: Buffer): void;
  reject(err: Error): void;
}

/** One connection to the agent: requests are written in order and answered in order. */
export class AgentLink {
  readonly pending: Pending[] = [];
  closed = false;
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly sock: Socket,
    private readonly onClose: (link: AgentLink, why: string) => void,
  ) {
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    sock.on("error", (err) => this.close(`agent connection failed: ${err.message}`));
    sock.on("close", () => this.close("agent closed the connection"));
  }

  /** Sends `frame` (a whole message: length, type, contents; see {@link frameOf}) and resolves to the answer. */
  request(frame: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.closed) {
        reject(new AgentError("agent connection is closed", true));
        return;
      }
      this.pending.push({ resolve, reject });
      this.sock.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const len = this.buffer.readUInt32BE(0);
      if (len === 0 || len > MAX_MESSAGE) {
        this.close(`agent sent a malformed message (length ${len})`);
        return;
      }
      if (this.buffer.length < 4 + len) return;
      const body = this.buffer.subarray(4, 4 + len);
      this.buffer = this.buffer.subarray(4 + len);
      const req = this.pending.shift();
      if (!req) {
        this.close("agent sent an answer nobody asked for");
        return;
      }
      req.resolve(body);
    }
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    const err = new AgentError(why, true);
    for (const req of this.pending.splice(0)) req.reject(err);
    this.onClose(this, why);
  }
}

export function readString(buf: Buffer, at: number): [Buffer, number] | undefined {
  if (at + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) return undefined;
  return [buf.subarray(at + 4, at + 4 + len), at + 4 + len];
}

/** An agent message with its length and type, `contentLength` bytes of contents to be written from offset 5. */
export function frameOf(type: number, contentLength: number): Buffer {
  const frame = Buffer.allocUnsafe(5 + contentLength);
  frame.writeUInt32BE(contentLength + 1, 0);
  frame[4] = type;
  return frame;
}

/** The identity request never changes. */
export const LIST_FRAME = frameOf(SSH_AGENTC_REQUEST_IDENTITIES, 0);

export function parseIdentities(body: Buffer): ParsedKey[] {
  if (body.length < 5) throw new AgentError("agent sent a malformed identity list", false);
  const count = body.readUInt32BE(1);
  const keys: ParsedKey[] = [];
  let at = 5;
  for (let i = 0; i < count; i++) {
    const blob = readString(body, at);
    const comment = blob && readString(body, blob[1]);
    if (!blob || !comment) throw new AgentError("agent sent a malformed identity list", false);
    at = comment[1];
    const parsed = ssh2.utils.parseKey(blob[0]);
    // Key types ssh2 cannot use are skipped, as ssh2's own agent client does.
    if (parsed instanceof Error || Array.isArray(parsed)) continue;
    keys.push(parsed);
  }
  return keys;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new AgentError(String(err), true);
}
