/** Counts of this process's active handles by type (TCPSocketWrap, Timeout, ...). */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Waits (up to `ms`) until no more handles of `types` are active than in `before`; returns the final counts. */
export async function settleHandles(
  before: Record<string, number>,
  types = ["TCPSocketWrap", "Timeout"],
  ms = 500,
): Promise<Record<string, number>> {
  const until = Date.now() + ms;
  for (;;) {
    const now = activeHandles();
    if (types.every((t) => (now[t] ?? 0) <= (before[t] ?? 0)) || Date.now() > until) return now;
    await new Promise((r) => setTimeout(r, 10));
  }
}
