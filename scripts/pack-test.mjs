// Tests what we publish as it is published: packs every public package, installs the
// tarballs with npm into an empty project (no workspace links), then imports each library
// from ESM and CommonJS, type-checks against them with tsc, runs each bin with --help,
// probes a simulated SSH host through the installed @uptime/ssh-probe, and runs publint
// and are-the-types-wrong on each package. Prints "N passed, N failed" and exits non-zero on failure.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bins, firstLine, start, stopAll } from "./pipeline.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const libraries = ["protocol", "ssh-probe", "transport-zmq", "sink-store", "report-core"];
const apps = [
  ["sender", "uptime-sender"],
  ["worker", "uptime-worker"],
  ["sink", "uptime-sink"],
  ["report", "uptime-report"],
];
const dirs = [...libraries.map((l) => `packages/${l}`), ...apps.map(([a]) => `apps/${a}`)];
const work = mkdtempSync(join(tmpdir(), "uptime-pack-"));
let passed = 0;
let failed = 0;

function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`  ok    ${name}`);
  } catch (err) {
    failed++;
    console.log(
      `  FAIL  ${name}\n${String(err.stdout ?? "")}${String(err.stderr ?? "")}${err.message}`.replace(
        /\n/g,
        "\n        ",
      ),
    );
  }
}
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: "utf8", stdio: "pipe", ...opts });

console.log(`pack-test in ${work}`);
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);
for (const d of dirs)
  check(`pnpm pack ${d}`, () =>
    run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: join(root, d) }),
  );
for (const d of dirs)
  check(`publint ${d}`, () => run(join(root, "node_modules/.bin/publint"), ["--strict", join(root, d)]));
for (const l of libraries) {
  const tgz = readdirSync(tarballs).find((f) => f.startsWith(`uptime-${l}-`));
  check(`are-the-types-wrong @uptime/${l}`, () =>
    run(join(root, "node_modules/.bin/attw"), [
      join(tarballs, tgz),
      "--profile",
      "node16",
      "--format",
      "ascii",
    ]),
  );
}

const project = join(work, "project");
mkdirSync(project);
writeFileSync(
  join(project, "package.json"),
  JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2),
);
const tsVersion = JSON.parse(
  readFileSync(join(root, "node_modules/typescript/package.json"), "utf8"),
).version;
const nodeTypes = JSON.parse(
  readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8"),
).version;
check("npm install the tarballs into an empty project", () =>
  run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...readdirSync(tarballs).map((f) => join(tarballs, f)),
      `typescript@${tsVersion}`,
      `@types/node@${nodeTypes}`,
    ],
    { cwd: project },
  ),
);

const expected = {
  protocol: ["encode", "decode", "PROTOCOL_VERSION", "DecodeError"],
  "ssh-probe": ["createProbe", "parseUptime", "parseTarget", "parseInventory"],
  "transport-zmq": ["Dispatcher", "WorkerLink", "Collector", "generateKeyPair"],
  "sink-store": ["SinkStore", "SeqSet", "formatResult", "StoreWriteError"],
  "report-core": ["analyzeRuns", "readRunFile", "renderHtml", "formatReportText", "parseResultLine"],
};
for (const l of libraries) {
  const names = JSON.stringify(expected[l]);
  check(`import @uptime/${l} from ESM`, () =>
    run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import("@uptime/${l}"); for (const n of ${names}) if (!(n in m)) throw new Error("missing export " + n);`,
      ],
      { cwd: project },
    ),
  );
  check(`require @uptime/${l} from CommonJS`, () =>
    run(
      process.execPath,
      [
        "-e",
        `const m = require("@uptime/${l}"); for (const n of ${names}) if (!(n in m)) throw new Error("missing export " + n);`,
      ],
      { cwd: project },
    ),
  );
}

writeFileSync(
  join(project, "tsconfig.json"),
  JSON.stringify({
    compilerOptions: {
      module: "NodeNext",
      moduleResolution: "NodeNext",
      target: "ES2022",
      strict: true,
      noEmit: true,
      types: ["node"],
    },
    include: ["*.ts", "*.cts"],
  }),
);
writeFileSync(
  join(project, "esm.ts"),
  `import { decode, encode, type Message } from "@uptime/protocol";
import { createProbe, parseUptime, type ProbeResult } from "@uptime/ssh-probe";
import { SinkStore } from "@uptime/sink-store";
import { Collector, Dispatcher, generateKeyPair, type ResultStore } from "@uptime/transport-zmq";
const store: ResultStore = await SinkStore.open({ format: "text", print: false });
const collector = new Collector({ store });
const m: Message = { v: 1, t: "bye", worker: "w" };
const r = decode(encode(m));
const u = parseUptime(" 10:14:51 up 65 days, 17:07,  1 user,  load average: 0.00, 0.01, 0.05");
const s: number | undefined = u?.seconds;
const f = (x: ProbeResult) => (x.ok ? x.target : x.error.code);
export { r, s, f, createProbe, Dispatcher, generateKeyPair, collector };
`,
);
writeFileSync(
  join(project, "cjs.cts"),
  `import protocol = require("@uptime/protocol");
import probe = require("@uptime/ssh-probe");
const r: protocol.DecodeResult = protocol.decode("{}");
export = { r, p: probe.createProbe };
`,
);
check("tsc resolves the types (ESM and CommonJS consumers)", () =>
  run(join(project, "node_modules/.bin/tsc"), ["-p", project], { cwd: project }),
);

for (const [, bin] of apps) {
  check(`${bin} --help`, () => {
    const out = run(join(project, "node_modules/.bin", bin), ["--help"], { cwd: project });
    if (!out.includes(`Usage:`) || !out.includes(bin)) throw new Error(`unexpected --help output:\n${out}`);
  });
}

// One simulated host, probed through the installed library.
const fleetDir = join(work, "fleet");
const fleet = start("fleet", bins.fleet, ["--hosts", "1", "--out", fleetDir], { stdout: "pipe" });
try {
  const ready = JSON.parse(await firstLine(fleet));
  const target = readFileSync(ready.inventory, "utf8").trim().split("\n")[0];
  check("probe a simulated host through the installed @uptime/ssh-probe", () => {
    const script = `import { createProbe } from "@uptime/ssh-probe";
const probe = createProbe({ identityFiles: [${JSON.stringify(ready.identity)}], knownHosts: ${JSON.stringify(ready.knownHosts)}, agent: false });
const r = await probe.probe(${JSON.stringify(target)});
await probe.close();
if (!r.ok) throw new Error(JSON.stringify(r));
console.log(r.uptime.text);`;
    const res = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: project,
      encoding: "utf8",
      timeout: 30_000,
    });
    if (res.status !== 0) throw new Error(res.stderr || `exit ${res.status}`);
    if (!/\d/.test(res.stdout)) throw new Error(`no uptime in output: ${res.stdout}`);
  });
} catch (err) {
  failed++;
  console.log(`  FAIL  simulated fleet: ${err.message}`);
} finally {
  await stopAll([fleet]);
}

if (failed === 0) rmSync(work, { recursive: true, force: true });
console.log(`\npack-test: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
