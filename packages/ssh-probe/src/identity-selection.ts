import { readFileSync } from "node:fs";
import ssh2, { type ParsedKey } from "ssh2";

/*
 * Which keys are offered, in which order, as OpenSSH's pubkey_prepare (sshconnect2.c) orders them:
 *   1. agent keys that are also a configured identity file (by public key), in the agent's order;
 *   2. the agent's other keys, unless IdentitiesOnly;
 *   3. the identity files not in the agent.
 * An identity file's public key is read as OpenSSH's sshkey_load_public does: the file itself when it is a
 * public key, else `FILE.pub`, else the public half of the private key file (in clear in OpenSSH's format, even
 * when the private half is encrypted).
 */

const OPENSSH_MAGIC = Buffer.from("openssh-key-v1\0", "latin1");

function readString(buf: Buffer, at: number): [Buffer, number] | undefined {
  if (at + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) return undefined;
  return [buf.subarray(at + 4, at + 4 + len), at + 4 + len];
}

/** The wire blob of a `type base64 [comment]` public key line, or undefined. */
function blobOfPublicLine(text: string): Buffer | undefined {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "" && !l.startsWith("#"));
  if (!line) return undefined;
  const parsed = ssh2.utils.parseKey(line.trim());
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || key.isPrivateKey()) return undefined;
  return key.getPublicSSH();
}

/** The public key stored in clear in an `openssh-key-v1` private key file (encrypted or not). */
function blobOfOpenSshPrivate(text: string): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) return undefined;
  const raw = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  if (!raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  let at = OPENSSH_MAGIC.length;
  for (let i = 0; i < 3; i++) {
    // ciphername, kdfname, kdfoptions
    const s = readString(raw, at);
    if (!s) return undefined;
    at = s[1];
  }
  if (at + 4 > raw.length || raw.readUInt32BE(at) < 1) return undefined;
  return readString(raw, at + 4)?.[0];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** An identity file's public key (SSH wire format) as OpenSSH finds it; undefined when it cannot be found. */
export function loadPublicKeyBlob(path: string): Buffer | undefined {
  const text = readText(path);
  const own = text === undefined ? undefined : blobOfPublicLine(text);
  if (own) return own;
  const pub = readText(`${path}.pub`);
  const fromPub = pub === undefined ? undefined : blobOfPublicLine(pub);
  if (fromPub) return fromPub;
  if (text === undefined) return undefined;
  const inClear = blobOfOpenSshPrivate(text);
  if (inClear) return inClear;
  // Unencrypted PEM keys: the private key gives the public one.
  const parsed = ssh2.utils.parseKey(text);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key && !(key instanceof Error) ? key.getPublicSSH() : undefined;
}

/** Base64 of each agent key's blob; the agent's key objects are shared by every connection, so this is cached. */
const b64Cache = new WeakMap<ParsedKey, string>();
function b64Of(key: ParsedKey): string {
  let b64 = b64Cache.get(key);
  if (b64 === undefined) {
    b64 = key.getPublicSSH().toString("base64");
    b64Cache.set(key, b64);
  }
  return b64;
}

/**
 * The agent keys to offer for one connection, in OpenSSH's order, given the configured identity files' public
 * keys (base64 of the wire blob). Remembers what it offered, so that the same key is not offered again from
 * its file.
 */
export class AgentKeySelection {
  private readonly offeredKeys = new Set<string>();

  constructor(
    private readonly filePublicKeys: ReadonlySet<string>,
    private readonly identitiesOnly: boolean,
  ) {}

  select(keys: readonly ParsedKey[]): ParsedKey[] {
    const configured: ParsedKey[] = [];
    const others: ParsedKey[] = [];
    for (const key of keys) {
      const b64 = b64Of(key);
      if (this.filePublicKeys.has(b64)) configured.push(key);
      else if (!this.identitiesOnly) others.push(key);
      else continue;
      this.offeredKeys.add(b64);
    }
    return [...configured, ...others];
  }

  /**
   * The agent refused to sign with `key` (removed from it, or the agent locked): its identity file, when one is
   * configured, is offered next in this login, as OpenSSH does once the agent no longer holds the key.
   */
  refused(key: ParsedKey): void {
    this.offeredKeys.delete(b64Of(key));
  }

  /** True when `key` (an identity file's) was already offered through the agent. */
  offered(key: ParsedKey): boolean {
    return this.offeredKeys.size > 0 && this.offeredKeys.has(b64Of(key));
  }
}

/** An ssh2 agent that offers `selection`'s choice of `inner`'s keys and signs through `inner`. */
export function selectingAgent(
  inner: InstanceType<typeof ssh2.BaseAgent>,
  selection: AgentKeySelection,
): InstanceType<typeof ssh2.BaseAgent> {
  return new SelectingAgent(inner, selection);
}

class SelectingAgent extends ssh2.BaseAgent {
  constructor(
    private readonly inner: InstanceType<typeof ssh2.BaseAgent>,
    private readonly selection: AgentKeySelection,
  ) {
    super();
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    this.inner.getIdentities((err, keys) =>
      err ? cb(err) : cb(undefined, this.selection.select((keys ?? []) as ParsedKey[])),
    );
  }

  override sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: unknown): void {
    const callback = (typeof options === "function" ? options : cb) as
      | ((err: Error | undefined, signature?: Buffer) => void)
      | undefined;
    const done = (err: Error | undefined, signature?: Buffer) => {
      if (err) this.selection.refused(pubKey);
      callback?.(err, signature);
    };
    (this.inner.sign as (...args: unknown[]) => void)(
      pubKey,
      data,
      typeof options === "function" ? done : options,
      typeof options === "function" ? undefined : done,
    );
  }
}
