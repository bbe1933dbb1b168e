// Config resolution cost: 100,000 inventory names against an ssh_config of 500 Host blocks (pnpm bench:resolve).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSshConfig } from "../dist/index.js";

const HOSTS = Number(process.env.HOSTS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), "sshconfig-bench-"));
const file = join(dir, "config");
const blocks = [];
for (let i = 0; i < 450; i++)
  blocks.push(
    `Host web${i} web${i}.example.com\n  HostName 10.0.${i >> 8}.${i & 255}\n  User ops\n  Port 22${i % 10}\n`,
  );
for (let i = 0; i < 40; i++)
  blocks.push(
    `Host *.dc${i}.example.com !skip.dc${i}.example.com\n  ProxyJump bastion${i}\n  IdentityFile ~/.ssh/dc${i}\n`,
  );
for (let i = 0; i < 9; i++) blocks.push(`Match host db${i}-*\n  User dba\n`);
blocks.push("Host *\n  User fallback\n  ConnectTimeout 5\n  IdentityFile ~/.ssh/id_ed25519\n");
writeFileSync(file, blocks.join(""));
try {
  const t0 = process.cpuUsage();
  const config = loadSshConfig([file]);
  const load = process.cpuUsage(t0);
  const names = Array.from({ length: HOSTS }, (_, i) =>
    i % 3 === 0 ? `web${i % 450}` : i % 3 === 1 ? `h${i}.dc${i % 40}.example.com` : `db${i % 9}-${i}`,
  );
  const c0 = process.cpuUsage();
  for (const n of names) config.resolve(n, {}, { username: "me", port: 22 });
  const first = process.cpuUsage(c0);
  const c1 = process.cpuUsage();
  for (const n of names) config.resolve(n, {}, { username: "me", port: 22 });
  const again = process.cpuUsage(c1);
  const ms = (u) => (u.user + u.system) / 1000;
  console.log(`500 blocks, load ${ms(load).toFixed(1)} ms; ${HOSTS} names (${new Set(names).size} distinct)`);
  console.log(`first resolution: ${(ms(first) / HOSTS).toFixed(4)} ms CPU per host`);
  console.log(`cached:           ${(ms(again) / HOSTS).toFixed(4)} ms CPU per host`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
