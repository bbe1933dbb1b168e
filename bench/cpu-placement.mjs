// Where the benchmarks run their processes. By default, on a machine with two or more CPUs and taskset, the
// simulated fleet runs on the second half of the CPUs and every client (the benchmark process and all it
// starts: our apps, the bare library, pdsh, parallel-ssh and their ssh processes) on the first half. On a real
// fleet the servers' CPUs are not the client's; sharing them here lets the fleet's servers take CPU from
// whichever client is measured (the most from the one that needs the least), and inflates everyone's CPU per
// host with contention. `--no-pin` (or UPTIME_BENCH_NO_PIN=1) shares every CPU, as before.
import { spawnSync } from "node:child_process";

/** "0-2,5" -> [0, 1, 2, 5] */
function cpuList(text) {
  return text.split(",").flatMap((part) => {
    const [a, b = a] = part.split("-").map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/**
 * Pins this process (and so every child it starts from now on) to the first half of its CPUs, and returns
 * `{ clients, fleet }` (taskset CPU lists), or undefined (nothing pinned: asked not to, fewer than two
 * CPUs, or no taskset). Says on stderr which.
 */
export function pinClients({ disabled = false } = {}) {
  if (disabled || process.env.UPTIME_BENCH_NO_PIN === "1") {
    console.error("bench: fleet and clients share the CPUs (not pinned, as asked)");
    return undefined;
  }
  const r = spawnSync("taskset", ["-cp", String(process.pid)], { encoding: "utf8" });
  const list = r.status === 0 ? r.stdout.split(":").at(-1)?.trim() : undefined;
  const cpus = list ? cpuList(list) : [];
  if (cpus.length < 2) {
    console.error("bench: fleet and clients share the CPUs (fewer than two CPUs, or no taskset)");
    return undefined;
  }
  const half = Math.floor(cpus.length / 2);
  const clients = cpus.slice(0, half).join(",");
  const fleet = cpus.slice(half).join(",");
  const pin = spawnSync("taskset", ["-a", "-cp", clients, String(process.pid)], { encoding: "utf8" });
  if (pin.status !== 0) {
    console.error(`bench: cannot pin the clients (${pin.stderr.trim()}); fleet and clients share the CPUs`);
    return undefined;
  }
  console.error(`bench: clients on CPU ${clients}, the fleet on CPU ${fleet} (--no-pin to share them)`);
  return { clients, fleet };
}

/** `[command, args]` that run `node script ...args` on the fleet's CPUs when `placement` is set. */
export function onFleetCpus(placement, script, args) {
  return placement
    ? ["taskset", ["-c", placement.fleet, process.execPath, script, ...args]]
    : [process.execPath, [script, ...args]];
}

/** For the summary line and the JSON: where the fleet and the clients ran. */
export function describePlacement(placement) {
  return placement
    ? `clients on CPU ${placement.clients}, fleet on CPU ${placement.fleet}`
    : "fleet and clients share the CPUs";
}
