/**
 * Waits for `promise`, or for `signal` to abort (then resolves with `onAbort`). Nothing stays attached to the
 * signal once it settles, so a loop can call it once per task for as long as the process runs: racing against
 * one long-lived promise instead (`Promise.race([next, stopped])`) leaves a reaction on it per call, about
 * 1 KiB per task that is never freed.
 */
export function unlessAborted<T, U>(promise: Promise<T>, signal: AbortSignal, onAbort: U): Promise<T | U> {
  if (signal.aborted) return Promise.resolve(onAbort);
  return new Promise<T | U>((resolve, reject) => {
    const abort = () => resolve(onAbort);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}
