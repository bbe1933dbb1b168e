import type { Socket } from "node:net";

/** How the server's writes on one socket are held back. */
export interface ShapeOptions {
  /** Every write leaves this many ms after it was made (one-way latency per write). */
  latencyMs: number;
  /** Send everything up to and including the first `\n` one byte at a time (a slow SSH banner). */
  dripFirstLine: boolean;
  /** Pause between dripped bytes. */
  dripIntervalMs: number;
}

interface Pending {
  due: number;
  data: Buffer;
}

/**
 * Wraps `socket.write`/`socket.end` so that the server's output is delayed and/or dripped while keeping its
 * order. One timer per socket at most; the caller clears it through the returned function on close.
 */
export function shapeSocket(socket: Socket, options: ShapeOptions): () => void {
  const write = socket.write.bind(socket) as (data: Buffer) => boolean;
  const end = socket.end.bind(socket) as () => Socket;
  const queue: Pending[] = [];
  let dripping = options.dripFirstLine;
  let endRequested = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (ms: number): void => {
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, ms);
  };

  const pump = (): void => {
    if (timer !== undefined || socket.destroyed) return;
    while (queue.length > 0) {
      const head = queue[0]!;
      const wait = head.due - Date.now();
      if (wait > 0) {
        schedule(wait);
        return;
      }
      if (dripping) {
        const byte = head.data.subarray(0, 1);
        head.data = head.data.subarray(1);
        if (head.data.length === 0) queue.shift();
        if (byte[0] === 0x0a) dripping = false;
        write(byte);
        // Every later byte waits behind this one.
        for (const p of queue) p.due = Math.max(p.due, Date.now() + options.dripIntervalMs);
        if (dripping || queue.length > 0) {
          schedule(options.dripIntervalMs);
          return;
        }
        break;
      }
      queue.shift();
      write(head.data);
    }
    if (endRequested && queue.length === 0) end();
  };

  socket.write = ((chunk: Buffer | string, ...rest: unknown[]): boolean => {
    if (endRequested) return false;
    const data = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    queue.push({ due: Date.now() + options.latencyMs, data });
    pump();
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    if (cb) queueMicrotask(cb);
    return true;
  }) as Socket["write"];

  socket.end = ((...args: unknown[]): Socket => {
    const chunk = args[0];
    if (typeof chunk === "string" || Buffer.isBuffer(chunk)) socket.write(chunk);
    endRequested = true;
    pump();
    return socket;
  }) as Socket["end"];

  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    queue.length = 0;
  };
}
