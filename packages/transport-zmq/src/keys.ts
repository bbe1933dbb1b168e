import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { curveKeyPair } from "zeromq";
import { isZ85Key } from "./z85.js";

/** A CURVE key pair in Z85. */
export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** Why a key file or allow-list could not be used. Stable: branch on it. */
export type KeyFileErrorCode = "KEY_PERMISSIONS" | "KEY_INVALID" | "KEY_EXISTS" | "KEY_UNREADABLE";

/** A key file or allow-list that cannot be used, with a stable `code`. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
  constructor(
    readonly code: KeyFileErrorCode,
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Generates a CURVE key pair.
 *
 * @example
 * const { publicKey, secretKey } = generateKeyPair();
 */
export function generateKeyPair(): KeyPair {
  return curveKeyPair();
}

/**
 * Generates a key pair and writes the secret file `path` (mode 0600, both keys) and
 * `path.pub` (the public key, mode 0644, suitable for an allow-list).
 * Refuses to overwrite an existing file unless `overwrite` is set.
 *
 * @example
 * const { publicKey } = await writeKeyPair("/etc/uptime/worker.key");
 */
export async function writeKeyPair(path: string, options: { overwrite?: boolean } = {}): Promise<KeyPair> {
  const pair = generateKeyPair();
  const flag = options.overwrite ? "w" : "wx";
  const secret = `# uptime CURVE key pair. Keep this file secret (mode 0600).\npublic ${pair.publicKey}\nsecret ${pair.secretKey}\n`;
  try {
    await writeFile(path, secret, { mode: 0o600, flag });
    await chmod(path, 0o600); // an overwritten file keeps its old mode otherwise
    await writeFile(`${path}.pub`, `${pair.publicKey}\n`, { mode: 0o644, flag });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
      throw new KeyFileError("KEY_EXISTS", `${path}: a key file exists already; not overwriting it`, path, {
        cause,
      });
    }
    throw cause;
  }
  return pair;
}

/**
 * Reads a key pair written by {@link writeKeyPair}. Refuses a secret file that its
 * group or others can access (like OpenSSH), and keys that are not valid Z85.
 *
 * @example
 * const keys = await readKeyPair("/etc/uptime/worker.key");
 */
export async function readKeyPair(path: string): Promise<KeyPair> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw new KeyFileError(
        "KEY_PERMISSIONS",
        `${path}: secret key file has mode ${mode}, readable by group or others; run chmod 600 ${path}`,
        path,
      );
    }
    text = await readFile(path, "utf8");
  } catch (cause) {
    if (cause instanceof KeyFileError) throw cause;
    throw new KeyFileError(
      "KEY_UNREADABLE",
      `${path}: cannot read key file: ${(cause as Error).message}`,
      path,
      {
        cause,
      },
    );
  }
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(public|secret)\s+(\S+)\s*$/.exec(line);
    if (m) fields[m[1]!] = m[2]!;
  }
  const { public: publicKey, secret: secretKey } = fields;
  if (!isZ85Key(publicKey) || !isZ85Key(secretKey)) {
    throw new KeyFileError(
      "KEY_INVALID",
      `${path}: expected lines "public <40-char Z85 key>" and "secret <40-char Z85 key>"`,
      path,
    );
  }
  return { publicKey, secretKey };
}

/**
 * Reads an allow-list: one Z85 public key per line, `#` comments and blank lines
 * skipped. A bad line is an error naming its line number.
 *
 * @example
 * const allow = await readAllowList("/etc/uptime/workers.allow");
 */
export async function readAllowList(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new KeyFileError(
      "KEY_UNREADABLE",
      `${path}: cannot read allow-list: ${(cause as Error).message}`,
      path,
      {
        cause,
      },
    );
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    // "#" is a Z85 character: a comment starts a line or follows whitespace.
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") return;
    if (!isZ85Key(line)) {
      const shown: string = raw.trim();
      throw new KeyFileError(
        "KEY_INVALID",
        `${path}:${i + 1}: expected a 40-character Z85 public key, got ${JSON.stringify(shown.slice(0, 60))}`,
        path,
      );
    }
    keys.push(line);
  });
  return keys;
}
