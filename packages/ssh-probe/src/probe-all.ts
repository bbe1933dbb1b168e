import { setMaxListeners } from "node:events";
import { describeValue } from "@uptime/protocol/check";
import type { ProbeResult, Target } from "./types.js";

type Source = Iterable<string | Target> | AsyncIterable<string | Target>;

function iterate(source: Source): AsyncIterator<string | Target> | Iterator<string | Target> {
  if (typeof source === "string" || source instanceof String) {
    // A string is iterable, one character at a time: probing "w", "e", "b", "1" is never what was meant.
    throw new TypeError(
      `Expected \`targets\` to be an iterable of targets, got a string (${describeValue(String(source))}); pass [target] for one`,
    );
  }
  if (source && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return (source as AsyncIterable<string | Target>)[Symbol.asyncIterator]();
  }
  if (source && typeof (source as Iterable<unknown>)[Symbol.iterator] === "function") {
    return (source as Iterable<string | Target>)[Symbol.iterator]();
  }
  throw new TypeError(
    `Expected \`targets\` to be an iterable or async iterable, got ${describeValue(source)}`,
  );
}

/**
 * Streams results in completion order. Targets are pulled from the source only while fewer than `concurrency`
 * probes are in flight, so memory follows concurrency, not the number of hosts. Stopping the loop early (break)
 * aborts the probes still in flight.
 */
export async function* probeAll(
  source: Source,
  run: (target: string | Target, signal: AbortSignal) => Promise<ProbeResult>,
  options: { concurrency: number; signal?: AbortSignal },
): AsyncGenerator<ProbeResult> {
  const iterator = iterate(source);
  const controller = new AbortController();
  // One listener per in-flight probe, bounded by concurrency.
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const done: ProbeResult[] = [];
  let wake: (() => void) | undefined;
  let inFlight = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;

  const start = (target: string | Target) => {
    inFlight++;
    run(target, controller.signal).then(
      (result) => {
        inFlight--;
        done.push(result);
        wake?.();
      },
      (error: unknown) => {
        inFlight--;
        failure ??= { error };
        wake?.();
      },
    );
  };

  try {
    for (;;) {
      while (!exhausted && inFlight + done.length < options.concurrency && !failure) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else start(next.value);
      }
      if (done.length > 0) {
        yield done.shift()!;
        continue;
      }
      if (failure) throw failure.error;
      if (inFlight === 0 && exhausted) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (inFlight > 0) controller.abort();
    if (!exhausted) await iterator.return?.();
  }
}
