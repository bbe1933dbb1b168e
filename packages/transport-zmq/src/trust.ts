import { BlockList, isIP } from "node:net";
import { optionError } from "@uptime/protocol/check";

/** The networks a server admits without CURVE when the operator names none: loopback only. */
export const LOOPBACK_NETWORKS: readonly string[] = ["127.0.0.0/8", "::1/128"];

/**
 * A set of IPv4 and IPv6 networks (CIDR) that peers' addresses are checked against.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack listener reports)
 * are checked as the IPv4 address they carry.
 *
 * @example
 * const trust = new TrustList(["10.0.0.0/8", "fd00::/8"], "--trust");
 * trust.has("10.1.2.3"); // true
 */
export class TrustList {
  /** The networks, normalised (`10.0.0.0/8`, `::1/128`). */
  readonly networks: readonly string[];
  private readonly list = new BlockList();

  constructor(cidrs: readonly string[], option = "trust") {
    if (!Array.isArray(cidrs)) {
      throw optionError(option, "an array of CIDR strings", cidrs);
    }
    const networks: string[] = [];
    cidrs.forEach((cidr, i) => {
      const { address, prefix, family } = parseCidr(cidr, `${option}[${i}]`);
      this.list.addSubnet(address, prefix, family);
      networks.push(`${address}/${prefix}`);
    });
    this.networks = networks;
  }

  /** Whether `address` (an IP address as ZeroMQ reports a peer) lies in one of the networks. */
  has(address: string): boolean {
    const ip = unmapIPv4(address.trim());
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 4 ? "ipv4" : "ipv6");
  }
}

/** Parses `a.b.c.d/n`, `v6::/n`, or a bare address (a /32 or /128). Throws a TypeError naming `option`. */
export function parseCidr(
  cidr: unknown,
  option: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  if (typeof cidr !== "string" || cidr.length === 0 || cidr.length > 64) {
    throw new TypeError(
      `${option}: expected a CIDR such as 10.0.0.0/8 or fd00::/8, got ${JSON.stringify(cidr)}`,
    );
  }
  const slash = cidr.indexOf("/");
  const address = unmapIPv4(slash < 0 ? cidr : cidr.slice(0, slash));
  const family = isIP(address);
  if (family === 0) {
    throw new TypeError(`${option}: ${JSON.stringify(cidr)} is not an IPv4 or IPv6 address or network`);
  }
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : cidr.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
    throw new TypeError(`${option}: prefix length of ${JSON.stringify(cidr)} must be 0 to ${max}`);
  }
  return { address, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Whether an endpoint reaches only this machine's processes (ipc, inproc): no address to check. */
export function isLocalEndpoint(endpoint: string): boolean {
  return endpoint.startsWith("ipc://") || endpoint.startsWith("inproc://");
}

/**
 * Flag values (`--trust 10.0.0.0/8,fd00::/8`, repeatable) as a list of networks, each checked;
 * undefined when none is given. Throws a TypeError naming `option` and the bad entry.
 */
export function parseTrustList(values: readonly string[], option: string): string[] | undefined {
  const list = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  if (list.length === 0) return undefined;
  return list.map((cidr) => {
    const { address, prefix } = parseCidr(cidr, option);
    return `${address}/${prefix}`;
  });
}
