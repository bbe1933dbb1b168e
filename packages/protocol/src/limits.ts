/**
 * Size limits of the protocol. Every string and array on the wire is bounded, so a
 * peer cannot make us hold more than `maxFrameBytes` per message.
 */
export const LIMITS = {
  /** Largest encoded message, in bytes. @default 65536 */
  maxFrameBytes: 64 * 1024,
  /** Job and worker ids. */
  id: 128,
  /** A target: `user@host:port`, `user@[v6]:port`. */
  target: 512,
  /** A command to run instead of `uptime`. */
  command: 4096,
  /** Free text: uptime output line, error message, stop reason. */
  text: 8192,
  /** Error codes. */
  code: 64,
  /** Sequence numbers in one receipt. */
  receiptSeqs: 4096,
  /** Hops of a ProxyJump chain. */
  jumpHops: 16,
  /** Highest attempt number. */
  attempts: 1000,
} as const;
