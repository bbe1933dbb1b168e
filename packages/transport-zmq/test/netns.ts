import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { onTestFinished } from "vitest";

/** A network namespace joined to this one by a veth pair, with private /30 addresses on both ends. */
export interface NetnsPeer {
  /** The namespace's name (for `ip netns exec`). */
  ns: string;
  /** This side's address (bind here to be reachable from the namespace). */
  hostAddress: string;
  /** The namespace side's address: what a server sees as the peer's address. */
  peerAddress: string;
  /** The /30 that holds both ends. */
  network: string;
}

function ip(args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * Creates `transport-XXXX` (a namespace) and a veth pair between it and this namespace with
 * 10.200.X.Y/30 addresses: traffic stays between the two ends created here. Removed when the test
 * ends, also when it fails. Needs root and iproute2: fails (never skips) without them.
 */
export function createNetnsPeer(): NetnsPeer {
  const tag = randomBytes(2).toString("hex");
  const ns = `transport-${tag}`;
  const hostIf = `transport-h${tag.slice(0, 3)}`;
  const peerIf = `transport-n${tag.slice(0, 3)}`;
  const x = randomBytes(1)[0]!;
  const y = (randomBytes(1)[0]! & 0x3f) * 4;
  const network = `10.200.${x}.${y}/30`;
  const hostAddress = `10.200.${x}.${y + 1}`;
  const peerAddress = `10.200.${x}.${y + 2}`;
  onTestFinished(() => {
    // Deleting the namespace deletes its end of the pair, and with it ours; both are tried.
    for (const args of [
      ["netns", "del", ns],
      ["link", "del", hostIf],
    ]) {
      try {
        ip(args);
      } catch {
        // already gone
      }
    }
  });
  ip(["netns", "add", ns]);
  ip(["link", "add", hostIf, "type", "veth", "peer", "name", peerIf]);
  ip(["link", "set", peerIf, "netns", ns]);
  ip(["addr", "add", `${hostAddress}/30`, "dev", hostIf]);
  ip(["link", "set", hostIf, "up"]);
  ip(["netns", "exec", ns, "ip", "addr", "add", `${peerAddress}/30`, "dev", peerIf]);
  ip(["netns", "exec", ns, "ip", "link", "set", peerIf, "up"]);
  ip(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  return { ns, hostAddress, peerAddress, network };
}
