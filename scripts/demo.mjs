// pnpm demo: a simulated fleet of 1,000 SSH hosts on loopback, and the real apps as separate
// processes over TCP loopback: progress, a sample of the results and the summary; then a second
// sweep after 3% of the fleet rebooted, and uptime-report comparing the two (terminal summary and an
// HTML page).
// Options: --hosts N (1000), --workers N (2), --concurrency N (250), --latency MS (0), --fail-rate R (0.02),
// --sweeps N (2), --port P (22022: every simulated host listens on its own 127.1.x.y address there)
import { mkdir, readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { bins, firstLine, runPipeline, start, stopAll } from "./pipeline.mjs";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "1000" },
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "250" },
    latency: { type: "string", default: "0" },
    "fail-rate": { type: "string", default: "0.02" },
    sweeps: { type: "string", default: "2" },
    port: { type: "string", default: "22022" },
    dir: { type: "string", default: ".tmp/demo" },
  },
});
const dir = values.dir;
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });

// The fleet is started again for each sweep with one more reboot round: 3% of its hosts reboot
// between two sweeps, so the report has a "rebooted" table to show.
const startDemoFleet = async (reboots) => {
  const fleet = start(
    "fleet",
    bins.fleet,
    [
      "--hosts",
      values.hosts,
      "--latency",
      values.latency,
      "--fail-rate",
      values["fail-rate"],
      "--reboots",
      String(reboots),
      // A fixed port on every host's own address: the same targets in every sweep.
      "--port",
      values.port,
      "--out",
      `${dir}/fleet`,
    ],
    { stdout: "pipe" },
  );
  return { fleet, ready: JSON.parse(await firstLine(fleet)) };
};
console.error(`demo: starting a simulated fleet of ${values.hosts} SSH hosts on 127.1.x.y ...`);
let running = [];
let code = 1;
try {
  const sweeps = Math.max(1, Number(values.sweeps));
  const runs = [];
  for (let sweep = 1; sweep <= sweeps; sweep++) {
    if (sweep > 1) {
      await stopAll(running);
      console.error(
        `\ndemo: sweep ${sweep} of ${sweeps}, to compare with the one before; meanwhile 3% of the fleet rebooted (uptime-test-fleet --reboots)\n`,
      );
    }
    const { fleet, ready } = await startDemoFleet(sweep - 1);
    running = [fleet];
    if (sweep === 1)
      console.error(
        `demo: fleet ready; running uptime-sink, ${values.workers} uptime-worker (${values.concurrency} slots each) and uptime-sender\n`,
      );
    // The original's text lines, and an NDJSON record beside them for uptime-report to compare.
    const outFile = `${dir}/results-${sweep}.txt`;
    const record = `${dir}/results-${sweep}.ndjson`;
    code = await runPipeline({
      hostFile: ready.inventory,
      outFile,
      workers: Number(values.workers),
      concurrency: Number(values.concurrency),
      workerArgs: [
        "--identity",
        ready.identity,
        "--known-hosts",
        ready.knownHosts,
        "--no-agent",
        "--connect-timeout",
        "2s",
        "--command-timeout",
        "2s",
        "--deadline",
        "3s",
      ],
      sinkArgs: ["--quiet", "--record", record],
    });
    runs.push(record);
    if (sweep > 1) continue;
    const lines = (await readFile(outFile, "utf8")).trimEnd().split("\n");
    console.error(`\ndemo: ${lines.length} results in ${outFile} (and ${record}); a sample:`);
    const sample = [
      ...lines.filter((l) => l.includes("result:")).slice(0, 5),
      ...lines.filter((l) => l.includes("error:")).slice(0, 3),
    ];
    for (const l of sample) console.log(`  ${l}`);
  }
  const html = `${dir}/report.html`;
  const args = [
    ...runs,
    "--max-uptime",
    "90d",
    "--limit",
    "3",
    "--html",
    html,
    "--title",
    "uptime-fleet demo",
  ];
  console.error(`\ndemo: uptime-report ${args.join(" ")}\n`);
  const report = start("report", bins.report, args);
  const reportCode = await report.exited;
  if (code === 0) code = reportCode;
  console.error(`\ndemo: the report: file://${resolve(html)}`);
} finally {
  await stopAll(running);
}
process.exitCode = code;
