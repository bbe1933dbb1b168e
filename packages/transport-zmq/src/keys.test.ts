import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../test/helpers.js";
import { KeyFileError, readAllowList, readKeyPair, writeKeyPair } from "./keys.js";
import { isZ85Key } from "./z85.js";

describe("key files", () => {
  it("writes a 0600 secret file and a .pub, and reads the pair back", async () => {
    const path = join(tempDir(), "worker.key");
    const pair = await writeKeyPair(path);
    expect(isZ85Key(pair.publicKey) && isZ85Key(pair.secretKey)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(`${path}.pub`, "utf8")).trim()).toBe(pair.publicKey);
    expect(await readKeyPair(path)).toEqual(pair);
    expect(await readAllowList(`${path}.pub`)).toEqual([pair.publicKey]);
  });

  it("does not overwrite an existing key unless asked", async () => {
    const path = join(tempDir(), "k");
    const first = await writeKeyPair(path);
    await expect(writeKeyPair(path)).rejects.toMatchObject({ code: "KEY_EXISTS" });
    expect(await readKeyPair(path)).toEqual(first);
    const second = await writeKeyPair(path, { overwrite: true });
    expect(second.publicKey).not.toBe(first.publicKey);
  });

  it("refuses a secret file readable by group or others, naming the fix", async () => {
    const path = join(tempDir(), "k");
    await writeKeyPair(path);
    for (const mode of [0o640, 0o604, 0o660]) {
      await chmod(path, mode);
      const error = await readKeyPair(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyFileError);
      expect(error).toMatchObject({ code: "KEY_PERMISSIONS" });
      expect((error as Error).message).toMatch(/chmod 600/);
    }
  });

  it("refuses malformed and missing key files", async () => {
    const dir = tempDir();
    const path = join(dir, "bad");
    await writeFile(path, "public abc\nsecret def\n", { mode: 0o600 });
    await expect(readKeyPair(path)).rejects.toMatchObject({ code: "KEY_INVALID" });
    await expect(readKeyPair(join(dir, "none"))).rejects.toMatchObject({ code: "KEY_UNREADABLE" });
  });

  it("reads an allow-list with comments and reports a bad line by number", async () => {
    const dir = tempDir();
    const a = await writeKeyPair(join(dir, "a"));
    const b = await writeKeyPair(join(dir, "b"));
    const list = join(dir, "allow");
    await writeFile(list, `# workers\n\n${a.publicKey}  # worker a\n  ${b.publicKey}\n`);
    expect(await readAllowList(list)).toEqual([a.publicKey, b.publicKey]);
    await writeFile(list, `${a.publicKey}\nnot-a-key\n`);
    await expect(readAllowList(list)).rejects.toThrow(/allow:2: expected a 40-character Z85 public key/);
  });
});
