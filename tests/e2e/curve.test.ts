import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BIN,
  endpoints,
  hostsInOutput,
  runApp,
  startFleet,
  startSender,
  startSink,
  startWorker,
  tempDir,
} from "./harness.js";

async function genKey(bin: string, file: string): Promise<string> {
  const app = runApp(bin, ["--gen-key", file]);
  expect(await app.exited, app.stderr()).toBe(0);
  const pub = app.stdout().trim();
  expect(pub).toMatch(/^[\x21-\x7e]{40}$/);
  expect((await stat(file)).mode & 0o077).toBe(0);
  return pub;
}

describe("CURVE between the apps", () => {
  it("runs a job with CURVE on both links, and a worker without an allowed key gets nothing", async () => {
    const fleet = await startFleet(20);
    const dir = await tempDir();
    const senderPub = await genKey(BIN.sender, join(dir, "sender.key"));
    const sinkPub = await genKey(BIN.sink, join(dir, "sink.key"));
    const goodPub = await genKey(BIN.worker, join(dir, "good.key"));
    await genKey(BIN.worker, join(dir, "rogue.key"));
    await writeFile(join(dir, "allow"), `# workers\n${goodPub}\n`);
    const ep = await endpoints();
    const out = join(dir, "out.txt");

    const sink = await startSink(out, ep, [
      "--curve-secret",
      join(dir, "sink.key"),
      "--curve-allow",
      join(dir, "allow"),
    ]);
    await sink.waitFor(/listening.*CURVE on/);
    const sender = startSender(fleet.inventory, ep, [
      "--curve-secret",
      join(dir, "sender.key"),
      "--curve-allow",
      join(dir, "allow"),
    ]);
    await sender.waitFor(/waiting for workers/);
    const curveFlags = (key: string) => [
      "--curve-secret",
      join(dir, key),
      "--sender-key",
      senderPub,
      "--sink-key",
      join(dir, "sink.key.pub"),
    ];
    // The rogue worker first: it must get no task at all.
    const rogue = startWorker("rogue", 10, ep, fleet, curveFlags("rogue.key"));
    await rogue.waitFor(/CURVE|refused|no answer/i);
    expect(sinkPub).toBe((await readFile(join(dir, "sink.key.pub"), "utf8")).trim());
    startWorker("good", 10, ep, fleet, curveFlags("good.key"));
    expect(await sender.exited, sender.stderr()).toBe(0);
    await sink.waitFor(/20\/20 results/);
    const hosts = await hostsInOutput(out);
    expect(new Set(hosts)).toEqual(new Set(fleet.targets));
    expect(hosts.length).toBe(20);
    const text = await readFile(out, "utf8");
    expect(text).not.toContain("worker_id: rogue_");
    expect(sender.stderr()).not.toMatch(/worker rogue joined/);
  }, 60_000);

  it("refuses a secret key file others can read", async () => {
    const dir = await tempDir();
    const key = join(dir, "sink.key");
    await genKey(BIN.sink, key);
    await chmod(key, 0o644);
    const sink = runApp(BIN.sink, ["--curve-secret", key, "--curve-allow", `${key}.pub`]);
    expect(await sink.exited).not.toBe(0);
    expect(sink.stderr()).toMatch(/sink\.key/);
    expect(sink.stderr()).toMatch(/permission|readable|mode/i);
  }, 30_000);
});
