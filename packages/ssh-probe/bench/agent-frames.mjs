// ssh-agent wire framing for the benchmark scripts' own agent and agent client (node-agent.mjs,
// agent-rate.mjs); the library's is src/agent-wire.ts.

/** An SSH string: uint32 length, then the bytes. */
export function string(bytes) {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An agent message: a string holding its type byte and body. */
export const message = (type, body) => string(Buffer.concat([Buffer.from([type]), body]));

/** The complete messages at the start of `buffered` (each its type byte and body), and the bytes left over. */
export function splitMessages(buffered) {
  const messages = [];
  let rest = buffered;
  while (rest.length >= 4 && rest.length >= 4 + rest.readUInt32BE(0)) {
    const length = rest.readUInt32BE(0);
    messages.push(rest.subarray(4, 4 + length));
    rest = rest.subarray(4 + length);
  }
  return { messages, rest };
}
