import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { PROBE_ERROR_CODES } from "../src/errors.js";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const line = " 10:14:32 up 65 days, 17:07,  3 users,  load average: 0.08, 0.03, 0.01";

// The sources are what vitest runs; this checks what is published loads in plain Node (ESM and CJS), which
// caught ssh2 being CommonJS (no named ESM exports) once.
test.each([
  ["ESM import", `import("${dist}index.js").then`],
  ["CJS require", `Promise.resolve(require("${dist}index.cjs")).then`],
])("the built package loads with %s and works", (_name, load) => {
  if (!existsSync(`${dist}index.js`)) throw new Error(`no ${dist}index.js: run \`pnpm build\` first`);
  const script = `${load}((m) => { const p = m.createProbe({ agent: false, identityFiles: [] }); console.log(JSON.stringify([m.parseUptime(${JSON.stringify(line)}).text, m.PROBE_ERROR_CODES.length, typeof p.probeAll])); return p.close(); })`;
  const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000 });
  expect(JSON.parse(out)).toEqual(["65 days, 17:07", PROBE_ERROR_CODES.length, "function"]);
});
