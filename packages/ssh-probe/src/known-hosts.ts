import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { appendFile, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { ProbeError } from "./errors.js";
import type { HostKeyPolicy, ProbeLogger } from "./types.js";

interface Entry {
  marker: "revoked" | "cert-authority" | undefined;
  /** Plain patterns (possibly negated with "!"); undefined for hashed entries. */
  patterns: string[] | undefined;
  hashed: { salt: Buffer; hash: Buffer } | undefined;
  keyType: string;
  keyB64: string;
  /** The file it was read from (for messages). */
  file: string;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's `SHA256:...` fingerprint of a wire-format public key. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** ssh2's host-key algorithms in its default preference order. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];

/** The signature algorithms that prove a host key of `keyType` (an RSA key signs with three). */
function algorithmsOf(keyType: string): string[] {
  return keyType === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [keyType];
}

/**
 * The host-key algorithms to offer, as OpenSSH orders them: those of the key types already known for the host
 * first, then the rest. Undefined (the library default) when no type is known.
 */
export function orderHostKeyAlgorithms(knownTypes: readonly string[]): string[] | undefined {
  const preferred = DEFAULT_HOST_KEY_ALGORITHMS.filter((alg) =>
    knownTypes.some((t) => algorithmsOf(t).includes(alg)),
  );
  if (preferred.length === 0) return undefined;
  return [...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((alg) => !preferred.includes(alg))];
}

function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

function parseLine(line: string, file: string): Entry | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length === 0 || fields[0] === "" || fields[0]!.startsWith("#")) return undefined;
  let marker: Entry["marker"];
  if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
    marker = fields[0] === "@revoked" ? "revoked" : "cert-authority";
    fields.shift();
  }
  const [hosts, keyType, keyB64] = fields;
  if (hosts === undefined || keyType === undefined || keyB64 === undefined) return undefined;
  if (hosts.startsWith("|1|")) {
    const [, , salt, hash] = hosts.split("|");
    if (!salt || !hash) return undefined;
    return {
      marker,
      patterns: undefined,
      hashed: { salt: Buffer.from(salt, "base64"), hash: Buffer.from(hash, "base64") },
      keyType,
      keyB64,
      file,
    };
  }
  return { marker, patterns: hosts.split(","), hashed: undefined, keyType, keyB64, file };
}

function matches(entry: Entry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac("sha1", entry.hashed.salt).update(name).digest();
    return digest.length === entry.hashed.hash.length && timingSafeEqual(digest, entry.hashed.hash);
  }
  let positive = false;
  for (const pattern of entry.patterns ?? []) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    const hit = /[*?]/.test(glob) ? globToRegExp(glob).test(name) : glob.toLowerCase() === name.toLowerCase();
    if (hit && negated) return false;
    if (hit) positive = true;
  }
  return positive;
}

/** Verdict of a host key check: `undefined` means accepted. */
export type HostKeyVerdict = ProbeError | undefined;

const MAX_CACHE = 100_000;
/** Hashed entries from which loading warns that every new host costs a scan of them all. */
export const HASHED_WARN = 1000;

/**
 * OpenSSH known_hosts, read once and kept in memory; verdicts are cached per (name, key). In `accept-new` mode
 * new hosts are appended one line each, batched into single O_APPEND writes and serialised, so a thousand hosts
 * accepted at once never interleave or corrupt the file.
 */
export class KnownHosts {
  private entries: Entry[] | undefined;
  private readonly cache = new Map<string, HostKeyVerdict>();
  private readonly typesCache = new Map<string, string[]>();
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  /** The file new keys are appended to (the first user file); "" when there is none. */
  readonly path: string;
  /** Every file read: the user files, then the global ones. */
  private readonly files: string[];

  /**
   * As OpenSSH: the user files (`UserKnownHostsFile`) then the global ones (`GlobalKnownHostsFile`) are read,
   * files that do not exist are skipped, and accepted keys are appended to the first user file only.
   */
  constructor(
    files: string | string[],
    readonly policy: HostKeyPolicy,
    private readonly logger: ProbeLogger | undefined,
    globalFiles: readonly string[] = [],
  ) {
    const user = [files].flat();
    this.files = [...user, ...globalFiles];
    this.path = user[0] ?? "";
  }

  /** Plain, wildcard-free names → entries; everything else (wildcards, negations, hashed) is scanned. */
  private byName = new Map<string, Entry[]>();
  private scanned: Entry[] = [];
  private revoked = new Set<string>();

  private index(entry: Entry): void {
    if (entry.marker === "revoked") {
      this.revoked.add(entry.keyB64);
      return;
    }
    if (entry.marker !== undefined) return;
    const patterns = entry.patterns;
    if (!patterns || patterns.some((p) => /[*?!]/.test(p))) {
      this.scanned.push(entry);
      return;
    }
    for (const p of patterns) {
      const name = p.toLowerCase();
      const list = this.byName.get(name);
      if (list) list.push(entry);
      else this.byName.set(name, [entry]);
    }
  }

  private load(): Entry[] {
    if (this.entries) return this.entries;
    this.entries = [];
    let hashed = 0;
    for (const file of this.files) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
          this.logger?.warn?.(`cannot read known_hosts ${file}: ${(err as Error).message}`);
        }
        continue;
      }
      for (const line of text.split(/\r?\n/)) {
        const entry = parseLine(line, file);
        if (entry) {
          this.entries.push(entry);
          this.index(entry);
          if (entry.hashed) hashed++;
        }
      }
    }
    if (hashed >= HASHED_WARN) {
      // A hashed name can only be found by hashing the name with each entry's salt: OpenSSH does the same.
      this.logger?.warn?.(
        `known_hosts ${this.path} has ${hashed} hashed entries: checking each host costs one HMAC per hashed entry ` +
          `(about ${Math.max(1, Math.round(hashed * 0.002))} ms of CPU per host); for a large fleet use a known_hosts ` +
          "without hashed names (ssh-keyscan without -H, HashKnownHosts no)",
        { path: this.path, hashed },
      );
    }
    return this.entries;
  }

  private candidates(name: string): Entry[] {
    this.load();
    return [...(this.byName.get(name.toLowerCase()) ?? []), ...this.scanned.filter((e) => matches(e, name))];
  }

  /** Key types (`ssh-ed25519`, `ssh-rsa`, ...) known for `host`:`port`, in file order, without duplicates. */
  knownTypes(host: string, port: number): string[] {
    return this.knownTypesOf(knownHostsName(host, port));
  }

  /** {@link knownTypes} for a name as looked up (`[host]:port`, or a HostKeyAlias). */
  knownTypesOf(name: string): string[] {
    const cached = this.typesCache.get(name);
    if (cached) return cached;
    const types = [...new Set(this.candidates(name).map((e) => e.keyType))];
    if (this.typesCache.size >= MAX_CACHE) this.typesCache.clear();
    this.typesCache.set(name, types);
    return types;
  }

  /** Checks `keyBlob` (SSH wire format) presented by `host`:`port`. */
  check(host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
    return this.checkName(knownHostsName(host, port), keyBlob);
  }

  /** {@link check} for a name as looked up (`[host]:port`, or a HostKeyAlias). */
  checkName(name: string, keyBlob: Buffer): HostKeyVerdict {
    const keyB64 = keyBlob.toString("base64");
    const cacheKey = `${name} ${keyB64}`;
    if (this.cache.has(cacheKey)) return this.cache.get(cacheKey);
    const verdict = this.decide(name, keyBlob, keyB64);
    // Oldest verdict out first: a fleet larger than the cache never empties it all at once.
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, verdict);
    return verdict;
  }

  private decide(name: string, keyBlob: Buffer, keyB64: string): HostKeyVerdict {
    // Only needed for messages; cheap, but every accepted host would pay for it.
    const describe = () => `${keyTypeOf(keyBlob)} ${fingerprint(keyBlob)}`;
    this.load();
    // @revoked wins wherever it appears in the file, as in OpenSSH.
    if (this.revoked.has(keyB64)) {
      return new ProbeError("HOSTKEY_REVOKED", `host key ${describe()} of ${name} is marked @revoked`);
    }
    // As OpenSSH: only an entry of the presented key's type can make it a changed key; a key of a type with no
    // entry is new for that type, even when keys of other types are known.
    const keyType = keyTypeOf(keyBlob);
    let sameType: Entry | undefined;
    const otherTypes = new Set<string>();
    for (const entry of this.candidates(name)) {
      if (entry.keyType !== keyType) {
        otherTypes.add(entry.keyType);
        continue;
      }
      if (entry.keyB64 === keyB64) return undefined;
      sameType ??= entry;
    }
    if (sameType) {
      return new ProbeError(
        "HOSTKEY_MISMATCH",
        `host key of ${name} changed: it presented ${describe()}, which is not the ${keyType} key in ${sameType.file}`,
      );
    }
    if (this.policy === "accept-new" && this.path !== "") {
      this.add(name, keyType, keyB64);
      this.logger?.info?.(`added ${name} (${describe()}) to ${this.path}`);
      return undefined;
    }
    const where =
      this.files.length > 0 ? this.files.join(", ") : "no known_hosts file (UserKnownHostsFile none)";
    const others =
      otherTypes.size > 0 ? `; keys of other types are known: ${[...otherTypes].join(", ")}` : "";
    return new ProbeError(
      "HOSTKEY_UNKNOWN",
      `no ${keyType} host key for ${name} in ${where} (it presented ${describe()}${others})`,
    );
  }

  private add(name: string, keyType: string, keyB64: string): void {
    const entry: Entry = {
      marker: undefined,
      patterns: [name],
      hashed: undefined,
      keyType,
      keyB64,
      file: this.path,
    };
    this.load().push(entry);
    this.index(entry);
    this.typesCache.delete(name);
    this.pending.push(`${name} ${keyType} ${keyB64}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const lines = this.pending;
        this.pending = [];
        this.writing = this.writing.then(() => this.write(lines.join("")));
      });
    }
  }

  private async write(text: string): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      let prefix = "";
      try {
        // Only the last byte matters: start on a new line if the file does not end with one.
        const handle = await open(this.path, "r");
        try {
          const { size } = await handle.stat();
          if (size > 0) {
            const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
            if (buffer[0] !== 0x0a) prefix = "\n";
          }
        } finally {
          await handle.close();
        }
      } catch {
        // no file yet
      }
      await appendFile(this.path, prefix + text, { mode: 0o600, flag: "a" });
    } catch (err) {
      this.logger?.warn?.(`cannot append to known_hosts ${this.path}: ${(err as Error).message}`);
    }
  }

  /** Resolves when every accepted key has been written. */
  async flush(): Promise<void> {
    while (this.scheduled || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await this.writing;
  }
}
