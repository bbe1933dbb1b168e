import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The built package, loaded by a real Node process the way users load it.
const pkgDir = fileURLToPath(new URL("..", import.meta.url));

describe("built @uptime/protocol", () => {
  it("has been built (pnpm build)", () => {
    expect(existsSync(`${pkgDir}/dist/index.js`), "run pnpm build first").toBe(true);
  });

  it("imports from ESM", () => {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { decode, encode } from "@uptime/protocol"; const r = decode(encode({ t: "bye", worker: "w" })); console.log(r.ok && r.message.t);`,
      ],
      { cwd: pkgDir, encoding: "utf8" },
    );
    expect(out.trim()).toBe("bye");
  });

  it("requires from CommonJS", () => {
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        `const { decode, PROTOCOL_VERSION } = require("@uptime/protocol"); const r = decode("{"); console.log(PROTOCOL_VERSION, r.ok, r.error.code);`,
      ],
      { cwd: pkgDir, encoding: "utf8" },
    );
    expect(out.trim()).toBe("1 false NOT_JSON");
  });
});
