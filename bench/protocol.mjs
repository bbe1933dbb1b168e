// Encode+decode cost per message of @uptime/protocol, for the kinds on the hot path.
// Run: pnpm build && node bench/protocol.mjs
import { decode, encode } from "@uptime/protocol";

const messages = {
  task: { t: "task", job: "job-1", seq: 123456, attempt: 1, target: "admin@web-042.example.net:22" },
  result: {
    t: "result",
    job: "job-1",
    seq: 123456,
    attempt: 1,
    target: "admin@web-042.example.net:22",
    worker: "worker1",
    slot: 15,
    durationMs: 12.3,
    at: Date.now(),
    ok: true,
    uptime: {
      raw: " 10:14:51 up 65 days, 17:07,  1 user,  load average: 0.00, 0.01, 0.05",
      text: "65 days, 17:07",
      seconds: 5677620,
      users: 1,
      load: [0, 0.01, 0.05],
    },
  },
  receipt: { t: "receipt", job: "job-1", seqs: Array.from({ length: 64 }, (_, i) => 1000 + i) },
};
const N = Number(process.env.N ?? 200_000);
for (const [kind, msg] of Object.entries(messages)) {
  for (let i = 0; i < 20_000; i++) decode(encode(msg)); // warm up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const r = decode(encode(msg));
    if (!r.ok) throw r.error;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const bytes = encode(msg).length;
  console.log(
    `${kind.padEnd(8)} ${String(bytes).padStart(5)} B  ${(ns / N / 1000).toFixed(2)} µs/msg wall  ${((cpu.user + cpu.system) / N).toFixed(2)} µs/msg CPU  (${N} encode+decode)`,
  );
}
