import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

// The sender never runs SSH: its built code must not load ssh2 (or ssh-probe, which brings it).
const root = fileURLToPath(new URL("../../..", import.meta.url));
const lister = fileURLToPath(new URL("./loaded-modules.mjs", import.meta.url));

function loaded(entry: string): string[] {
  expect(existsSync(entry), `${entry} is missing: run pnpm build first`).toBe(true);
  const out = execFileSync(process.execPath, [lister, entry], { encoding: "utf8" });
  return JSON.parse(out) as string[];
}

const sshModules = (files: string[]) =>
  files.filter((f) => /[\\/](ssh2|ssh-probe|cpu-features)[\\/]/.test(f));

describe("the built sender does not load the SSH stack", () => {
  test("importing @uptime/sender's CLI loads no ssh2 and no ssh-probe, but does load the inventory", () => {
    const files = loaded(`${root}apps/sender/dist/cli.js`);
    expect(files.some((f) => f.includes("/packages/inventory/dist/"))).toBe(true);
    expect(files.some((f) => f.includes("/zeromq/"))).toBe(true);
    expect(sshModules(files)).toEqual([]);
  });

  test("the same check sees ssh2 where it is loaded (ssh-probe), so it can fail", () => {
    const files = loaded(`${root}packages/ssh-probe/dist/index.js`);
    expect(sshModules(files).some((f) => f.includes("/ssh2/"))).toBe(true);
  });
});
