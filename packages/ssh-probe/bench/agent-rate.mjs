#!/usr/bin/env node
// How fast a real OpenSSH ssh-agent signs: a fresh agent (ssh-agent -D) holding one new key, asked for
// --requests signatures over --connections long-lived connections with --in-flight requests written to each
// before its answers are read (the probe's AgentPool uses up to 32 and 1). Prints signatures/s and this client's CPU
// per request, for each key type. Every cold login asks the agent for one signature, so a probe cannot log in
// faster than this through the agent.
//
//   node bench/agent-rate.mjs [--requests 20000] [--connections 32] [--in-flight 1] [--key ed25519,ecdsa]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { message, splitMessages, string } from "./agent-frames.mjs";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "20000" },
    connections: { type: "string", default: "32" },
    "in-flight": { type: "string", default: "1" },
    key: { type: "string", default: "ed25519,ecdsa" },
  },
});
const requests = Number(values.requests);
const connections = Number(values.connections);
const inFlight = Number(values["in-flight"]);
for (const [name, v] of [
  ["--requests", requests],
  ["--connections", connections],
  ["--in-flight", inFlight],
]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}

/** Sends `frames` over one connection, `inFlight` at a time; resolves with the answers (type, then body). */
function converse(socketPath, frames) {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const answers = [];
    let next = 0;
    let buffered = Buffer.alloc(0);
    const send = () => {
      const batch = frames.slice(next, next + inFlight - (next - answers.length));
      next += batch.length;
      if (batch.length) sock.write(Buffer.concat(batch));
    };
    sock.on("connect", send);
    sock.on("error", reject);
    sock.on("data", (chunk) => {
      const { messages, rest } = splitMessages(buffered.length ? Buffer.concat([buffered, chunk]) : chunk);
      buffered = rest;
      answers.push(...messages);
      if (answers.length === frames.length) {
        sock.end();
        resolve(answers);
      } else send();
    });
  });
}

async function measure(keyType) {
  const dir = mkdtempSync(join(tmpdir(), "agent-rate-"));
  const socketPath = join(dir, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", socketPath], { stdio: "ignore" });
  try {
    for (let i = 0; i < 200 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 10));
    const key = join(dir, "key");
    execFileSync("ssh-keygen", ["-q", "-t", keyType, "-N", "", "-f", key]);
    execFileSync("ssh-add", ["-q", key], {
      env: { ...process.env, SSH_AUTH_SOCK: socketPath },
      stdio: "ignore",
    });
    // The identity list: type, count, then the first key's blob.
    const [list] = await converse(socketPath, [message(11, Buffer.alloc(0))]);
    const blob = list.subarray(9, 9 + list.readUInt32BE(5));
    const data = Buffer.alloc(200, 7); // about the size of a userauth request to sign
    const sign = message(13, Buffer.concat([string(blob), string(data), Buffer.alloc(4)]));
    const per = Math.ceil(requests / connections);
    const run = async (n) => {
      const all = await Promise.all(
        Array.from({ length: connections }, () => converse(socketPath, Array(n).fill(sign))),
      );
      const failed = all.flat().filter((answer) => answer[0] !== 14).length;
      if (failed) throw new Error(`${failed} sign requests failed`);
    };
    await run(Math.min(per, 50)); // warm-up
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(per);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const total = per * connections;
    return {
      key: keyType,
      requests: total,
      connections,
      inFlight,
      "signatures/s": Math.round((total / wallMs) * 1000),
      "client cpu µs/request": Number(((cpu.user + cpu.system) / total).toFixed(1)),
    };
  } finally {
    agent.kill("SIGTERM");
    await new Promise((r) => (agent.exitCode !== null ? r() : agent.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

console.error(`agent-rate: ${spawnSync("ssh", ["-V"], { encoding: "utf8" }).stderr.trim()}`);
for (const k of values.key.split(",")) console.log(JSON.stringify(await measure(k)));
