// pnpm run-local HOSTFILE [OUTFILE] [-- worker flags]: the whole pipeline on this machine
// (sink, workers, sender as separate processes) against real hosts, with your ssh-agent and known_hosts.
// Options: --workers N (2), --concurrency N (200).
import { parseArgs } from "node:util";
import { runPipeline } from "./pipeline.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: "string", default: "2" }, concurrency: { type: "string", default: "200" } },
});
const [hostFile, outFile, ...workerArgs] = positionals;
if (!hostFile) {
  console.error("usage: pnpm run-local HOSTFILE [OUTFILE] [-- uptime-worker flags]");
  process.exit(2);
}
process.exitCode = await runPipeline({
  hostFile,
  outFile,
  workers: Number(values.workers),
  concurrency: Number(values.concurrency),
  workerArgs,
});
