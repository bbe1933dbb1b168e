/**
 * pdsh / ClusterShell host ranges: `web[01-12].dc1`, `node[1-3,7,10-12]`, `r[1-2]n[1-4]`
 * (several bracket groups: the cartesian product, the first group outermost), steps
 * `[1-10/2]` as ClusterShell has them. Zero padding follows ClusterShell: `[08-10]` gives
 * `08 09 10`, and a padded bound with an unpadded one (`[01-100]`) is an error.
 * A bracket holding a `:` is an IPv6 address (`user@[::1]:22`), not a range.
 */

import { hasControl, showText } from "./show-text.js";

/** Most hosts one expression may expand to unless told otherwise. */
export const DEFAULT_MAX_HOSTS = 1_000_000;

/** A host expression that cannot be expanded; `message` says why. */
export class HostRangeError extends Error {
  override readonly name = "HostRangeError";
  readonly code: "BAD_RANGE" | "TOO_MANY_HOSTS";
  constructor(code: "BAD_RANGE" | "TOO_MANY_HOSTS", message: string) {
    super(message);
    this.code = code;
  }
}

interface Span {
  from: number;
  to: number;
  step: number;
  pad: number;
}
type Part = string | Span[];

const spanSize = (s: Span) => Math.floor((s.to - s.from) / s.step) + 1;

/**
 * Expands one host expression into host strings, in written order, without duplicates
 * inside a bracket group.
 * @throws HostRangeError with code `BAD_RANGE` (unclosed bracket, bad bound, padding mismatch ...)
 * or `TOO_MANY_HOSTS` when it would expand to more than `maxHosts` (checked before expanding).
 * @example
 * expandHosts("web[01-03].dc1"); // ["web01.dc1", "web02.dc1", "web03.dc1"]
 */
export function expandHosts(expression: string, maxHosts = DEFAULT_MAX_HOSTS): string[] {
  if (!expression.includes("[") && !expression.includes("]") && !hasControl(expression)) return [expression];
  const parts = parseParts(expression);
  let size = 1;
  for (const p of parts) if (typeof p !== "string") size *= p.reduce((n, s) => n + spanSize(s), 0);
  if (size > maxHosts) {
    throw new HostRangeError(
      "TOO_MANY_HOSTS",
      `expands to ${size.toLocaleString("en-US")} hosts, more than the limit of ${maxHosts.toLocaleString("en-US")}`,
    );
  }
  let out = [""];
  for (const p of parts) {
    if (typeof p === "string") out = out.map((s) => s + p);
    else {
      const values = spanValues(p);
      const next: string[] = [];
      for (const s of out) for (const v of values) next.push(s + v);
      out = next;
    }
  }
  return out;
}

/** Whether `expression` holds a range (a bracket group that is not an IPv6 address). */
export function hasRange(expression: string): boolean {
  return parseParts(expression).some((p) => typeof p !== "string");
}

function parseParts(expression: string): Part[] {
  if (hasControl(expression)) {
    throw new HostRangeError("BAD_RANGE", `${showText(expression)} contains a control character`);
  }
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  while (i < expression.length) {
    const c = expression[i]!;
    if (c === "]") throw new HostRangeError("BAD_RANGE", `"]" without "[" at character ${i + 1}`);
    if (c !== "[") {
      literal += c;
      i++;
      continue;
    }
    const close = expression.indexOf("]", i + 1);
    if (close < 0) throw new HostRangeError("BAD_RANGE", `"[" at character ${i + 1} is never closed`);
    const body = expression.slice(i + 1, close);
    if (body.includes("[")) throw new HostRangeError("BAD_RANGE", `nested "[" at character ${i + 1}`);
    if (body.includes(":")) {
      literal += `[${body}]`; // an IPv6 address, checked as a target later
    } else {
      parts.push(literal);
      literal = "";
      parts.push(parseSet(body));
    }
    i = close + 1;
  }
  parts.push(literal);
  return parts.filter((p) => p !== "");
}

/** `1-3,7,10-12/2` into spans (nothing expanded yet, so the size can be checked first). */
function parseSet(body: string): Span[] {
  const spans: Span[] = [];
  for (const raw of body.split(",")) {
    const item = raw.trim();
    if (item === "") throw new HostRangeError("BAD_RANGE", `empty element in [${body}]`);
    const m = /^(\d+)(?:-(\d+)(?:\/(\d+))?)?$/.exec(item);
    if (!m) {
      const why = /^\d+\/\d+$/.test(item) ? "a step needs a range (a-b/step)" : "not a number or a range";
      throw new HostRangeError("BAD_RANGE", `"${item}" in [${body}]: ${why}`);
    }
    const lo = m[1]!;
    const hi = m[2] ?? lo;
    const pad = lo.length > 1 && lo.startsWith("0") ? lo.length : 0;
    if ((pad > 0 && hi.length !== pad) || (pad === 0 && hi.length > 1 && hi.startsWith("0"))) {
      throw new HostRangeError("BAD_RANGE", `"${item}" in [${body}]: the bounds are padded differently`);
    }
    const span = { from: Number(lo), to: Number(hi), step: Number(m[3] ?? "1"), pad };
    if (!Number.isSafeInteger(span.to)) {
      throw new HostRangeError("BAD_RANGE", `"${item}" in [${body}]: number too large`);
    }
    if (span.from > span.to)
      throw new HostRangeError("BAD_RANGE", `"${item}" in [${body}]: ${lo} is above ${hi}`);
    if (span.step < 1)
      throw new HostRangeError("BAD_RANGE", `"${item}" in [${body}]: the step must be 1 or more`);
    spans.push(span);
  }
  return spans;
}

/** The values of a bracket group as strings, padding kept, in written order, duplicates dropped. */
function spanValues(spans: Span[]): string[] {
  if (spans.length === 1) {
    // one span cannot repeat a value: no Set needed
    const { from, to, step, pad } = spans[0]!;
    const out = new Array<string>(Math.floor((to - from) / step) + 1);
    for (let v = from, i = 0; v <= to; v += step, i++) out[i] = String(v).padStart(pad, "0");
    return out;
  }
  const values = new Set<string>();
  for (const s of spans)
    for (let v = s.from; v <= s.to; v += s.step) values.add(String(v).padStart(s.pad, "0"));
  return [...values];
}
