// Overhead of the transport alone: dispatch (task), result, receipt and credit, with a
// store that keeps results in memory and probes that finish at once.
// By default everything runs in this one process, so process CPU time is the cost of
// all three sides per task. SPLIT=1 runs the workers in a child process and reports the
// sender+sink side and the worker side separately.
// Run: pnpm --filter @uptime/transport-zmq bench:transport   (builds first)
// PROBE_MS=1000 CAPACITY=500 N=10000 models the real pipeline, where results trickle in one by one.
// Env: N (tasks per run, default 100000), PROBE_MS (mean probe time, default 0), WORKERS (default 2), CAPACITY (default 200), RUNS (default 3),
//      TRANSPORT (tcp|ipc, default tcp), CURVE=1 (encrypt both links with a ZAP allow-list), SPLIT=1
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Collector, Dispatcher, generateKeyPair, WorkerLink } from "../dist/index.js";

const uptime = {
  raw: " 10:14:51 up 65 days, 17:07,  1 user,  load average: 0.00, 0.01, 0.05",
  text: "65 days, 17:07",
  seconds: 5677620,
  users: 1,
  load: [0, 0.01, 0.05],
};

/** Mean simulated probe time: results then trickle in one by one, as from real hosts. */
const PROBE_MS = Number(process.env.PROBE_MS ?? 0);

/** Starts `count` worker links that answer every task at once. */
async function startWorkers({ dispatcher, sink, count, capacity, curve }) {
  const links = [];
  const loops = [];
  for (let w = 0; w < count; w++) {
    const id = `bench${w}`;
    const link = new WorkerLink({ dispatcher, sink, id, capacity, ...(curve ? { curve } : {}) });
    await link.start();
    links.push(link);
    loops.push(
      (async () => {
        let slot = 0;
        for await (const t of link.tasks()) {
          // a probe that finishes at once (or after PROBE_MS on average): only the transport is measured
          const result = {
            t: "result",
            job: t.job,
            seq: t.seq,
            attempt: t.attempt,
            target: t.target,
            worker: id,
            slot: slot++ % capacity,
            durationMs: 0,
            at: Date.now(),
            ok: true,
            uptime,
          };
          if (PROBE_MS > 0) setTimeout(() => void link.sendResult(result), Math.random() * 2 * PROBE_MS);
          else void link.sendResult(result);
        }
      })(),
    );
  }
  return {
    links,
    async close() {
      for (const l of links) await l.close();
      await Promise.all(loops);
    },
  };
}

if (process.argv[2] === "worker") {
  // Child process of SPLIT=1: workers only; reports its CPU time on request.
  const w = await startWorkers(JSON.parse(process.env.BENCH_WORKER));
  process.on("message", async (m) => {
    if (m === "cpu")
      process.send({
        cpu: process.cpuUsage(),
        credits: w.links.reduce((s, l) => s + l.metrics().creditMessages, 0),
      });
    if (m === "close") {
      await w.close();
      process.exit(0);
    }
  });
  process.send("ready");
} else {
  await main();
}

async function main() {
  const N = Number(process.env.N ?? 100_000);
  const WORKERS = Number(process.env.WORKERS ?? 2);
  const CAPACITY = Number(process.env.CAPACITY ?? 200);
  const RUNS = Number(process.env.RUNS ?? 3);
  const TRANSPORT = process.env.TRANSPORT ?? "tcp";
  const CURVE = process.env.CURVE === "1";
  const SPLIT = process.env.SPLIT === "1";
  const dKeys = generateKeyPair();
  const sKeys = generateKeyPair();
  const wKeys = generateKeyPair();
  const dir = mkdtempSync(join(tmpdir(), "uptime-bench-"));
  const endpoint = (name) => (TRANSPORT === "ipc" ? `ipc://${join(dir, name)}` : "tcp://127.0.0.1:*");

  const keys = new Set();
  const store = {
    has: (job, seq) => keys.has(`${job}/${seq}`),
    async write(results) {
      for (const r of results) keys.add(`${r.job}/${r.seq}`);
    },
  };
  const dispatcher = new Dispatcher({
    endpoint: endpoint("d"),
    ...(CURVE ? { curve: { ...dKeys, allow: [wKeys.publicKey] } } : {}),
  });
  const collector = new Collector({
    endpoint: endpoint("c"),
    store,
    batchMaxMs: 2,
    batchMax: 2000,
    ...(CURVE ? { curve: { ...sKeys, allow: [wKeys.publicKey] } } : {}),
  });
  await dispatcher.bind();
  await collector.bind();
  const workerOptions = {
    dispatcher: dispatcher.endpoint.replace("0.0.0.0", "127.0.0.1"),
    sink: collector.endpoint.replace("0.0.0.0", "127.0.0.1"),
    count: WORKERS,
    capacity: CAPACITY,
    curve: CURVE ? { ...wKeys, dispatcherKey: dKeys.publicKey, sinkKey: sKeys.publicKey } : undefined,
  };

  let local;
  let child;
  const childAsk = () =>
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send("cpu");
    });
  if (SPLIT) {
    child = fork(fileURLToPath(import.meta.url), ["worker"], {
      env: { ...process.env, BENCH_WORKER: JSON.stringify(workerOptions) },
    });
    await new Promise((resolve) => child.once("message", resolve));
  } else {
    local = await startWorkers(workerOptions);
  }
  const credits = async () =>
    SPLIT ? (await childAsk()).credits : local.links.reduce((s, l) => s + l.metrics().creditMessages, 0);
  for (let i = 0; dispatcher.metrics().workers < WORKERS; i++) {
    if (i > 1000) throw new Error(`workers did not join: ${JSON.stringify(dispatcher.metrics().rejects)}`);
    await new Promise((r) => setTimeout(r, 10));
  }

  const targets = Array.from(
    { length: N },
    (_, i) => `admin@web-${String(i).padStart(6, "0")}.example.net:22`,
  );
  console.log(
    `transport-zmq benchmark: ${N} tasks x ${RUNS} runs, ${WORKERS} workers x capacity ${CAPACITY}, ${TRANSPORT}${CURVE ? " + CURVE" : ""}` +
      `${SPLIT ? ", workers in a child process" : ", one process"}, node ${process.version}`,
  );
  const rows = [];
  for (let run = 0; run < RUNS + 1; run++) {
    const receiptsBefore = collector.metrics().receiptsSent;
    const creditsBefore = await credits();
    const childBefore = SPLIT ? (await childAsk()).cpu : undefined;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const report = await dispatcher.runJob({ id: `bench-${run}`, targets }).done;
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    const childCpu = SPLIT ? (await childAsk()).cpu : undefined;
    if (report.receipted !== N) throw new Error(`run ${run}: ${report.receipted} of ${N} receipted`);
    const receipts = collector.metrics().receiptsSent - receiptsBefore;
    // protocol messages: task + result + credit grants + receipts (sink->worker and worker->dispatcher)
    const msgs = 2 * N + 2 * receipts + ((await credits()) - creditsBefore);
    const mainUs = (cpu.user + cpu.system) / N;
    const workerUs = SPLIT
      ? (childCpu.user + childCpu.system - childBefore.user - childBefore.system) / N
      : 0;
    if (run === 0) {
      console.log(`warm-up: ${(N / (wallMs / 1000)).toFixed(0)} tasks/s`);
      continue;
    }
    const cpuUs = mainUs + workerUs;
    rows.push({ wallMs, cpuUs, mainUs, workerUs });
    console.log(
      `run ${run}: ${(N / (wallMs / 1000)).toFixed(0).padStart(7)} tasks/s  ${(msgs / (wallMs / 1000)).toFixed(0).padStart(7)} msgs/s  ` +
        `${((wallMs * 1000) / N).toFixed(1).padStart(5)} µs wall/task  ${cpuUs.toFixed(1).padStart(5)} µs CPU/task` +
        (SPLIT ? ` (sender+sink ${mainUs.toFixed(1)}, worker ${workerUs.toFixed(1)})` : "") +
        `  receipts ${receipts}`,
    );
  }
  const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cpuUs = med(rows.map((r) => r.cpuUs));
  const wallUs = med(rows.map((r) => (r.wallMs * 1000) / N));
  console.log(
    `median: ${(1e6 / wallUs).toFixed(0)} tasks/s, ${cpuUs.toFixed(1)} µs CPU per task (dispatch + result + receipt, all three sides)` +
      (SPLIT
        ? ` = sender+sink ${med(rows.map((r) => r.mainUs)).toFixed(1)} + worker ${med(rows.map((r) => r.workerUs)).toFixed(1)}`
        : "") +
      `, ${wallUs.toFixed(1)} µs wall per task`,
  );
  console.log(
    `vs SSH at 1-3 ms per host: CPU overhead ${((cpuUs / 3000) * 100).toFixed(2)}%-${((cpuUs / 1000) * 100).toFixed(2)}% (target < 5%)`,
  );

  if (SPLIT) {
    child.send("close");
    await new Promise((resolve) => child.once("exit", resolve));
  } else {
    await local.close();
  }
  await collector.close();
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
}
