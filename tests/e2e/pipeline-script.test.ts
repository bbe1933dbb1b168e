import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readFile, startFleet, tempDir } from "./harness.js";

/** scripts/pipeline.mjs: what `pnpm demo` and `pnpm run-local` run (plain JavaScript, typed here by hand). */
interface PipelineScript {
  runPipeline(options: {
    hostFile: string;
    outFile: string;
    workers?: number;
    concurrency?: number;
    workerArgs?: string[];
    sinkArgs?: string[];
    senderArgs?: string[];
  }): Promise<number>;
  freePort(): Promise<number>;
}

describe("scripts/pipeline.mjs (pnpm demo, pnpm run-local)", () => {
  it("runs sink, workers and sender on a host list: every host answered once", async () => {
    const script = (await import(
      new URL("../../scripts/pipeline.mjs", import.meta.url).href
    )) as PipelineScript;
    const port = await script.freePort();
    expect(port).toBeGreaterThan(1023);
    const fleet = await startFleet(20);
    const outFile = join(await tempDir(), "out.txt");
    const code = await script.runPipeline({
      hostFile: fleet.inventory,
      outFile,
      workers: 2,
      concurrency: 5,
      workerArgs: ["--identity", fleet.identity, "--known-hosts", fleet.knownHosts, "--no-agent"],
      sinkArgs: ["--quiet"],
      senderArgs: ["--progress", "off"],
    });
    expect(code).toBe(0);
    const lines = (await readFile(outFile, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(20);
    const hosts = lines.map((l) => /, host: (\S+), result: /.exec(l)?.[1]);
    expect(new Set(hosts)).toEqual(new Set(fleet.targets));
  }, 60_000);
});
