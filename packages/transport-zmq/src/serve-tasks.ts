import type { Task } from "@uptime/protocol";
import { checkInteger, optionError, optionNames } from "@uptime/protocol/check";
import { optionsObject } from "./options.js";
import { Slots } from "./slots.js";
import type { ResultBody } from "./worker-link-types.js";

/** What {@link serveTasks} needs of a link: a {@link WorkerLink} has it. */
export interface TaskLink {
  tasks(): AsyncIterable<Task>;
  sendResult(result: ResultBody): Promise<void>;
  release(task: { job: string; seq: number }): void;
  on(event: "stop", listener: (m: { job: string; reason: string }) => void): unknown;
  off(event: "stop", listener: (m: { job: string; reason: string }) => void): unknown;
}

/**
 * Runs one task on a slot. Resolves with its result, or undefined to send none (the task's
 * credit is given back). `signal` aborts when the dispatcher stops the task's job.
 */
export type TaskHandler = (
  task: Task,
  context: { slot: number; signal: AbortSignal },
) => Promise<ResultBody | undefined>;

/** Options of {@link serveTasks}. */
export interface ServeTasksOptions {
  /** Tasks run at once (the link's capacity). */
  concurrency: number;
  /** Stops taking tasks; running ones finish, unstarted ones are handed back. */
  signal?: AbortSignal;
  /** A handler that threw, or a result the link would not take. The task's credit is given back. */
  onError?: (task: Task, error: unknown) => void;
}

/**
 * The worker's serving loop: takes tasks from `link`, runs each on one of `concurrency` numbered
 * slots, sends its result, and on `signal` stops taking tasks, hands back the one it took but had
 * not started, and waits for the running ones. Every task's credit comes back, whatever happens to
 * it: a result sent, a handler that failed or returned nothing, a job stopped by the dispatcher
 * (its running tasks see their `signal` abort, an unstarted one is skipped). A job id stopped once
 * is served again when it comes back: nothing is remembered beyond the tasks in hand.
 *
 * @example
 * await serveTasks(link, async (task, { slot }) => toResult(task, await probe(task.target), slot), {
 *   concurrency: 100,
 *   signal,
 * });
 */
export async function serveTasks(
  link: TaskLink,
  handler: TaskHandler,
  options: ServeTasksOptions,
): Promise<void> {
  const { concurrency, signal, onError } = checkServeOptions(options);
  const slots = new Slots(concurrency);
  const running = new Map<Task, AbortController>();
  let waiting: Task | undefined;
  let waitingStopped = false;
  const onStop = (m: { job: string }) => {
    if (waiting?.job === m.job) waitingStopped = true;
    for (const [task, ac] of running) if (task.job === m.job) ac.abort();
  };
  link.on("stop", onStop);

  const run = async (task: Task, slot: number, ac: AbortController) => {
    let sent = false;
    try {
      const result = await handler(task, { slot, signal: ac.signal });
      if (result && !ac.signal.aborted) {
        await link.sendResult(result);
        sent = true;
      }
    } catch (error) {
      onError?.(task, error);
    } finally {
      if (!sent) link.release(task);
      running.delete(task);
      slots.release(slot);
    }
  };

  const aborted = signal
    ? new Promise<undefined>((resolve) => {
        if (signal.aborted) resolve(undefined);
        else signal.addEventListener("abort", () => resolve(undefined), { once: true });
      })
    : undefined;
  const unlessAborted = <T>(p: Promise<T>): Promise<T | undefined> =>
    aborted ? Promise.race([p, aborted]) : p;

  const tasks = link.tasks()[Symbol.asyncIterator]();
  try {
    while (!signal?.aborted) {
      const next = await unlessAborted(tasks.next());
      if (!next || next.done) break;
      waiting = next.value;
      waitingStopped = false;
      const acquiring = slots.acquire();
      const slot = await unlessAborted(acquiring);
      const task = waiting;
      waiting = undefined;
      if (slot === undefined) {
        // Shutting down: this task was never started; its slot, when it comes, is not used.
        link.release(task);
        void acquiring.then((s) => slots.release(s));
        break;
      }
      if (waitingStopped) {
        link.release(task);
        slots.release(slot);
        continue;
      }
      const ac = new AbortController();
      running.set(task, ac);
      void run(task, slot, ac);
    }
  } finally {
    link.off("stop", onStop);
    await slots.idle();
  }
}

const OPTION_NAMES = optionNames<ServeTasksOptions>()(["concurrency", "signal", "onError"]);

/** Refuses unknown keys and bad values: "Expected \`concurrency\` to be an integer from 1 to 1000000, got 0 (number)". */
function checkServeOptions(input: ServeTasksOptions): ServeTasksOptions {
  const o = optionsObject(input, OPTION_NAMES);
  if (o.concurrency === undefined)
    throw optionError("concurrency", "an integer from 1 to 1000000", undefined);
  const concurrency = checkInteger("concurrency", o.concurrency, 1, { min: 1, max: 1_000_000 });
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw optionError("signal", "an AbortSignal", o.signal);
  }
  if (o.onError !== undefined && typeof o.onError !== "function") {
    throw optionError("onError", "a function", o.onError);
  }
  return { ...(o as unknown as ServeTasksOptions), concurrency };
}
