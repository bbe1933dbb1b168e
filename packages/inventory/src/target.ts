import { hasControl, showText } from "./show-text.js";
/** One SSH destination. */
export interface Target {
  /** Host name, IPv4 address or IPv6 address (without brackets). */
  host: string;
  /** TCP port; when absent the prober's default port applies (22 unless configured). */
  port?: number;
  /** Login user; when absent the prober's default user applies. */
  user?: string;
}

const HOST_RE = /^[A-Za-z0-9._-]+$/;
const V6_RE = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?$/;
const USER_RE = /^[^\s@:[\]/]+(?:@[^\s@:[\]/]+)*$/;

function parsePort(text: string, input: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TypeError(
      `Invalid target ${showText(input)}: port must be an integer from 1 to 65535, got "${text}"`,
    );
  }
  return Number(text);
}

/**
 * Parses `host`, `user@host`, `host:port`, `user@host:port`, `[v6]`, `[v6]:port`, `user@[v6]:port` (and a bare
 * IPv6 address without a port).
 *
 * @throws TypeError naming the input and what is wrong with it.
 * @example
 * parseTarget("root@[::1]:2222"); // { host: "::1", port: 2222, user: "root" }
 */
export function parseTarget(input: string): Target {
  if (typeof input !== "string") {
    throw new TypeError(`Invalid target: expected a string like "user@host:port", got ${typeof input}`);
  }
  const s = input.trim();
  if (s === "") throw new TypeError("Invalid target: empty string");
  if (hasControl(s)) throw new TypeError(`Invalid target ${showText(input)}: contains a control character`);
  if (/\s/.test(s)) throw new TypeError(`Invalid target ${showText(input)}: contains whitespace`);
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  const hostPart = at >= 0 ? s.slice(at + 1) : s;
  if (user !== undefined && !USER_RE.test(user)) {
    throw new TypeError(`Invalid target ${showText(input)}: bad user name "${user}"`);
  }
  let host: string;
  let port: number | undefined;
  if (hostPart.startsWith("[")) {
    const close = hostPart.indexOf("]");
    if (close < 0) throw new TypeError(`Invalid target ${showText(input)}: missing "]" after IPv6 address`);
    host = hostPart.slice(1, close);
    const after = hostPart.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":"))
        throw new TypeError(`Invalid target ${showText(input)}: expected ":port" after "]"`);
      port = parsePort(after.slice(1), input);
    }
    if (!host.includes(":") || !V6_RE.test(host)) {
      throw new TypeError(`Invalid target ${showText(input)}: "${host}" is not an IPv6 address`);
    }
  } else {
    const colons = hostPart.split(":").length - 1;
    if (colons >= 2) {
      if (!V6_RE.test(hostPart)) throw new TypeError(`Invalid target ${showText(input)}: bad IPv6 address`);
      host = hostPart;
    } else if (colons === 1) {
      const i = hostPart.indexOf(":");
      host = hostPart.slice(0, i);
      port = parsePort(hostPart.slice(i + 1), input);
    } else {
      host = hostPart;
    }
    if (host === "") throw new TypeError(`Invalid target ${showText(input)}: missing host`);
    if (colons < 2 && (!HOST_RE.test(host) || host.startsWith("-") || host.startsWith("."))) {
      throw new TypeError(`Invalid target ${showText(input)}: bad host name "${host}"`);
    }
  }
  const target: Target = { host };
  if (port !== undefined) target.port = port;
  if (user !== undefined) target.user = user;
  return target;
}

/**
 * Formats a target back to `user@host:port` form (IPv6 in brackets); the inverse of {@link parseTarget}.
 * @example
 * formatTarget({ host: "::1", port: 2222 }); // "[::1]:2222"
 */
export function formatTarget(target: Target): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const user = target.user === undefined ? "" : `${target.user}@`;
  const port = target.port === undefined ? "" : `:${target.port}`;
  return `${user}${host}${port}`;
}
