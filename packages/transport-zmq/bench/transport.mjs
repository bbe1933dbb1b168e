// Overhead of the transport alone: dispatch (task), result, receipt and credit, with a
// store that keeps results in memory and probes that finish at once. Everything runs
// in this one process, so process CPU time is the cost of all three sides per task.
// Run: pnpm --filter @uptime/transport-zmq bench:transport   (builds first)
// Env: N (tasks per run, default 100000), WORKERS (default 2), CAPACITY (default 200), RUNS (default 3),
//      TRANSPORT (tcp|ipc, default tcp), CURVE=1 (encrypt both links with a ZAP allow-list)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector, Dispatcher, generateKeyPair, WorkerLink } from "../dist/index.js";

const N = Number(process.env.N ?? 100_000);
const WORKERS = Number(process.env.WORKERS ?? 2);
const CAPACITY = Number(process.env.CAPACITY ?? 200);
const RUNS = Number(process.env.RUNS ?? 3);
const TRANSPORT = process.env.TRANSPORT ?? "tcp";
const CURVE = process.env.CURVE === "1";
const dKeys = generateKeyPair();
const sKeys = generateKeyPair();
const wKeys = generateKeyPair();

const dir = mkdtempSync(join(tmpdir(), "uptime-bench-"));
const endpoint = (name) => (TRANSPORT === "ipc" ? `ipc://${join(dir, name)}` : "tcp://127.0.0.1:*");

class MemoryStore {
  keys = new Set();
  has(job, seq) {
    return this.keys.has(`${job}/${seq}`);
  }
  async write(results) {
    for (const r of results) this.keys.add(`${r.job}/${r.seq}`);
  }
}

const store = new MemoryStore();
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
const fix = (e) => e.replace("0.0.0.0", "127.0.0.1");

const uptime = {
  raw: " 10:14:51 up 65 days, 17:07,  1 user,  load average: 0.00, 0.01, 0.05",
  text: "65 days, 17:07",
  seconds: 5677620,
  users: 1,
  load: [0, 0.01, 0.05],
};
const links = [];
const loops = [];
for (let w = 0; w < WORKERS; w++) {
  const id = `bench${w}`;
  const link = new WorkerLink({
    dispatcher: fix(dispatcher.endpoint),
    sink: fix(collector.endpoint),
    id,
    capacity: CAPACITY,
    ...(CURVE ? { curve: { ...wKeys, dispatcherKey: dKeys.publicKey, sinkKey: sKeys.publicKey } } : {}),
  });
  await link.start();
  links.push(link);
  loops.push(
    (async () => {
      let slot = 0;
      for await (const t of link.tasks()) {
        // a probe that finishes at once: only the transport is measured
        void link.sendResult({
          t: "result",
          job: t.job,
          seq: t.seq,
          attempt: t.attempt,
          target: t.target,
          worker: id,
          slot: slot++ % CAPACITY,
          durationMs: 0,
          at: Date.now(),
          ok: true,
          uptime,
        });
      }
    })(),
  );
}
for (let i = 0; dispatcher.metrics().workers < WORKERS; i++) {
  if (i > 1000) throw new Error(`workers did not join: ${JSON.stringify(dispatcher.metrics().rejects)}`);
  await new Promise((r) => setTimeout(r, 10));
}

const targets = Array.from({ length: N }, (_, i) => `admin@web-${String(i).padStart(6, "0")}.example.net:22`);
console.log(
  `transport-zmq benchmark: ${N} tasks x ${RUNS} runs, ${WORKERS} workers x capacity ${CAPACITY}, ${TRANSPORT}${CURVE ? " + CURVE" : ""}, node ${process.version}`,
);
const rows = [];
let creditsBefore = 0;
for (let run = 0; run < RUNS + 1; run++) {
  const before = { d: dispatcher.metrics(), c: collector.metrics() };
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const report = await dispatcher.runJob({ id: `bench-${run}`, targets }).done;
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  if (report.receipted !== N) throw new Error(`run ${run}: ${report.receipted} of ${N} receipted`);
  const d = dispatcher.metrics();
  const c = collector.metrics();
  const wm = links.map((l) => l.metrics());
  // zmq messages: task + result + credit grants + receipts (sink->worker and worker->dispatcher)
  const credits = wm.reduce((s, m) => s + m.creditMessages, 0);
  const msgs = N + N + (c.receiptsSent - before.c.receiptsSent) * 2 + (credits - creditsBefore);
  creditsBefore = credits;
  const cpuUs = (cpu.user + cpu.system) / N;
  if (run === 0) {
    console.log(`warm-up: ${(N / (wallMs / 1000)).toFixed(0)} tasks/s`);
    continue;
  }
  rows.push({ wallMs, cpuUs, msgs });
  console.log(
    `run ${run}: ${(N / (wallMs / 1000)).toFixed(0).padStart(7)} tasks/s  ${(msgs / (wallMs / 1000)).toFixed(0).padStart(7)} msgs/s  ` +
      `${((wallMs * 1000) / N).toFixed(1).padStart(5)} µs wall/task  ${cpuUs.toFixed(1).padStart(5)} µs CPU/task  ` +
      `(receipts ${c.receiptsSent - before.c.receiptsSent}, requeued ${d.requeued - before.d.requeued})`,
  );
}
const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuUs = med(rows.map((r) => r.cpuUs));
const wallUs = med(rows.map((r) => (r.wallMs * 1000) / N));
console.log(
  `median: ${(1e6 / wallUs).toFixed(0)} tasks/s, ${cpuUs.toFixed(1)} µs CPU per task (dispatch + result + receipt, all three sides), ` +
    `${wallUs.toFixed(1)} µs wall per task`,
);
console.log(
  `vs SSH at 1-3 ms per host: CPU overhead ${((cpuUs / 3000) * 100).toFixed(2)}%-${((cpuUs / 1000) * 100).toFixed(2)}% (target < 5%)`,
);

for (const l of links) await l.close();
await Promise.all(loops);
await collector.close();
await dispatcher.close();
rmSync(dir, { recursive: true, force: true });
