#!/usr/bin/env node
// A minimal ssh-agent for benchmarks only: one ed25519 key, answering "list identities" and "sign" with
// node:crypto (OpenSSL), every complete request in a read answered at once. OpenSSH 9.2's ssh-agent signs
// ed25519 with its own reference code, about 0.5 ms a signature here, one at a time: under a cold fan-out it
// is the bottleneck, and the client idles waiting for it. With this agent in its place, the difference left
// between the agent path and the key-file path is the client's own (cold.mjs --agent-impl node).
//
// Usage: node-agent.mjs SOCKET OPENSSH_PRIVATE_KEY   (prints "ready" on stdout once listening)
import { createPrivateKey, sign } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import ssh2 from "ssh2";
import { message, splitMessages, string } from "./agent-frames.mjs";

const [socketPath, keyPath] = process.argv.slice(2);
if (!socketPath || !keyPath) {
  console.error("usage: node-agent.mjs SOCKET OPENSSH_PRIVATE_KEY");
  process.exit(2);
}
const parsed = ssh2.utils.parseKey(readFileSync(keyPath));
if (parsed instanceof Error || parsed.type !== "ssh-ed25519") {
  console.error(`node-agent: ${keyPath} is not an unencrypted ed25519 key`);
  process.exit(2);
}
const publicBlob = parsed.getPublicSSH();
const privateKey = createPrivateKey(parsed.getPrivatePEM());

const IDENTITIES = message(
  12,
  Buffer.concat([Buffer.from([0, 0, 0, 1]), string(publicBlob), string(Buffer.from("bench"))]),
);
const FAILURE = message(5, Buffer.alloc(0));

function answer(request) {
  if (request[0] === 11) return IDENTITIES;
  if (request[0] !== 13) return FAILURE;
  const blobLength = request.readUInt32BE(1);
  const dataLength = request.readUInt32BE(5 + blobLength);
  const data = request.subarray(9 + blobLength, 9 + blobLength + dataLength);
  const signature = sign(null, data, privateKey);
  return message(14, string(Buffer.concat([string(Buffer.from("ssh-ed25519")), string(signature)])));
}

rmSync(socketPath, { force: true });
const server = createServer((sock) => {
  let buffered = Buffer.alloc(0);
  sock.on("data", (chunk) => {
    const { messages, rest } = splitMessages(buffered.length ? Buffer.concat([buffered, chunk]) : chunk);
    buffered = rest;
    // A request too short for the lengths it claims gets SSH_AGENT_FAILURE, as OpenSSH's agent answers.
    const out = messages.map((request) => {
      try {
        return answer(request);
      } catch {
        return FAILURE;
      }
    });
    if (out.length) sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  sock.on("error", () => sock.destroy());
});
server.listen(socketPath, () => console.log("ready"));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
