// Summarises a V8 .cpuprofile: self time by function and by package (the inspector's sampling profile, as
// `node --cpu-prof` or `Profiler.stop` give it). Shared by bench/profile.mjs and ssh-probe's bench/cold.mjs.

/** The package a profile node's code belongs to: a node_modules package, a workspace package, `node:x`, or native. */
function packageOf(url, functionName) {
  const m = /node_modules\/\.pnpm\/(@?[^@/]+)/.exec(url) ?? /\/((?:packages|apps)\/[^/]+)\//.exec(url);
  if (m) return m[1];
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  return functionName.startsWith("(") ? functionName : "native";
}

/**
 * Prints the top functions by self time and the time by package. `hosts` adds a ms-per-host column;
 * `skipIdle` leaves the (idle) node out of the total (time spent waiting is not work).
 */
export function printProfile(p, { title, top = 30, packages = 15, hosts, skipIdle = false }) {
  const time = new Map();
  for (let i = 0; i < p.samples.length; i++)
    time.set(p.samples[i], (time.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map();
  const pkgs = new Map();
  let total = 0;
  for (const n of p.nodes) {
    const t = time.get(n.id) ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (skipIdle && functionName === "(idle)") continue;
    total += t;
    const where = url
      .replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
      .replace(/^file:\/\/.*?\/(packages|apps)\//, "$1/");
    const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + t);
    const pkg = packageOf(url, functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + t);
  }
  const perHost = (t) => (hosts ? `  ${(t / 1000 / hosts).toFixed(3)} ms/host` : "");
  const row = (k, t) =>
    `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%${perHost(t)}  ${k}`;
  console.log(`\n${title}: ${(total / 1000).toFixed(0)} ms sampled${hosts ? ` over ${hosts} hosts` : ""}`);
  console.log("top functions by self time:");
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(k, t));
  console.log("by package:");
  for (const [k, t] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, packages)) console.log(row(k, t));
}
