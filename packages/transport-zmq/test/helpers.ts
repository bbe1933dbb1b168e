import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Result, Task } from "@uptime/protocol";
import { SinkStore } from "@uptime/sink-store";
import { onTestFinished } from "vitest";
import {
  Collector,
  Dispatcher,
  type ResultStore,
  serveTasks,
  WorkerLink,
  type WorkerLinkOptions,
} from "../src/index.js";

/** A temp directory removed when the test ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "uptime-zmq-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let ipcCounter = 0;
/** A per-test ipc endpoint in a temp dir. */
export function ipcEndpoint(dir: string): string {
  return `ipc://${join(dir, `s${ipcCounter++}.sock`)}`;
}

/** A per-test tcp endpoint on a random port of a per-test loopback address. */
export function tcpBind(): string {
  const b = 1 + Math.floor(Math.random() * 250);
  const c = 1 + Math.floor(Math.random() * 250);
  return `tcp://127.0.${b}.${c}:*`;
}

/** `tcp://0.0.0.0:1234` or `tcp://127.0.0.5:1234` -> connectable endpoint. */
export function connectable(endpoint: string): string {
  return endpoint.replace("tcp://0.0.0.0:", "tcp://127.0.0.1:");
}

/**
 * The sink's real store (`@uptime/sink-store`, NDJSON, journal beside it), closed when the
 * test ends; `failWrites` makes every write fail before it reaches the store (the disk gone).
 */
export class FileStore implements ResultStore {
  /** Fail every write (the disk is gone). */
  failWrites = false;

  private constructor(
    readonly path: string,
    private readonly store: SinkStore,
  ) {}

  static async open(path: string): Promise<FileStore> {
    const store = await SinkStore.open({ outFile: path, format: "ndjson", print: false });
    onTestFinished(() => store.close());
    return new FileStore(path, store);
  }

  /** Results stored, by this store and before it on the same file. */
  get count(): number {
    return this.store.count;
  }

  has(job: string, seq: number): boolean {
    return this.store.has(job, seq);
  }

  async write(results: Result[]): Promise<void> {
    if (this.failWrites) throw new Error("disk gone");
    await this.store.write(results);
  }

  /** Every stored line, in order. */
  async lines(): Promise<Result[]> {
    const text = await readFile(this.path, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Result);
  }
}

/** How a test worker "probes": after `delayMs`, failing the tasks `fail` picks. */
export interface RunOptions {
  delayMs: number | (() => number);
  fail?: (t: Task) => boolean;
}

/**
 * Runs a worker loop ({@link serveTasks}): "probes" each task after `delayMs` on one of `capacity`
 * slots and sends a result. Returns the tasks it ran.
 */
export function runWorker(
  link: WorkerLink,
  options: RunOptions & { id: string; capacity: number },
): { ran: Task[]; stopped: Promise<void> } {
  const ran: Task[] = [];
  const stopped = serveTasks(
    link,
    async (task, { slot }) => {
      ran.push(task);
      const delay = typeof options.delayMs === "function" ? options.delayMs() : options.delayMs;
      await new Promise((r) => setTimeout(r, delay));
      const base = {
        t: "result" as const,
        job: task.job,
        seq: task.seq,
        attempt: task.attempt,
        target: task.target,
        worker: options.id,
        slot,
        durationMs: delay,
        at: Date.now(),
      };
      return options.fail?.(task)
        ? { ...base, ok: false as const, error: { code: "REFUSED", message: "connection refused" } }
        : {
            ...base,
            ok: true as const,
            uptime: { raw: " 10:00:00 up 1 day", text: "1 day", seconds: 86_400 },
          };
    },
    // A result the link no longer takes (closed under us): the dispatcher requeues.
    { concurrency: options.capacity },
  );
  return { ran, stopped };
}

/** Waits until `cond()` holds, polling, failing after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Targets host0..host{n-1}. */
export function targets(n: number, prefix = "host"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** A dispatcher, a collector and workers wired together, all closed when the test ends. */
export async function pipeline(
  options: {
    transport?: "tcp" | "ipc";
    dispatcher?: Partial<ConstructorParameters<typeof Dispatcher>[0]>;
    collector?: Partial<ConstructorParameters<typeof Collector>[0]>;
  } = {},
) {
  const dir = tempDir();
  const ipc = options.transport === "ipc";
  const store = await FileStore.open(join(dir, "out.ndjson"));
  const dispatcher = new Dispatcher({
    endpoint: ipc ? ipcEndpoint(dir) : tcpBind(),
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 600,
    ...options.dispatcher,
  });
  const collector = new Collector({
    endpoint: ipc ? ipcEndpoint(dir) : tcpBind(),
    store,
    batchMaxMs: 5,
    ...options.collector,
  });
  await dispatcher.bind();
  await collector.bind();
  onTestFinished(() => dispatcher.close());
  onTestFinished(() => collector.close());
  return { dir, store, dispatcher, collector };
}

/** A WorkerLink to `p`'s dispatcher and collector, closed when the test ends. */
export function workerLink(
  p: { dispatcher: { endpoint: string }; collector: { endpoint: string } },
  id: string,
  capacity: number,
  extra: Partial<WorkerLinkOptions> = {},
): WorkerLink {
  const link = new WorkerLink({
    dispatcher: connectable(p.dispatcher.endpoint),
    sink: connectable(p.collector.endpoint),
    id,
    capacity,
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 600,
    ...extra,
  });
  onTestFinished(() => link.destroy());
  return link;
}

/**
 * Binds `server` on an address another socket just released: libzmq closes listeners
 * asynchronously, so retry EADDRINUSE for a bounded time.
 */
export async function rebind(server: { bind(): Promise<void> }, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await server.bind();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "EADDRINUSE" || Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A worker link for `p`, started and running its tasks ({@link workerLink} then {@link runWorker}). */
export async function serveWorker(
  p: Parameters<typeof workerLink>[0],
  id: string,
  capacity: number,
  run: RunOptions,
  extra: Partial<WorkerLinkOptions> = {},
): Promise<{ link: WorkerLink; ran: Task[]; stopped: Promise<void> }> {
  const link = workerLink(p, id, capacity, extra);
  await link.start();
  return { link, ...runWorker(link, { id, capacity, ...run }) };
}
