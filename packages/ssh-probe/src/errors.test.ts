import { expect, test } from "vitest";
import { classifyError, PROBE_ERROR_CODES, ProbeError } from "./errors.js";

const errno = (code: string, message = `connect ${code} 10.0.0.1:22`) =>
  Object.assign(new Error(message), { code });
const level = (lvl: string, message = "x") => Object.assign(new Error(message), { level: lvl });

test.each([
  [errno("ENOTFOUND", "getaddrinfo ENOTFOUND bzz"), "connect", "DNS"],
  [errno("EAI_AGAIN"), "connect", "DNS"],
  [errno("ECONNREFUSED"), "connect", "REFUSED"],
  [errno("EHOSTUNREACH"), "connect", "UNREACHABLE"],
  [errno("ENETUNREACH"), "connect", "UNREACHABLE"],
  [errno("ETIMEDOUT"), "connect", "CONNECT_TIMEOUT"],
  [errno("EMFILE"), "connect", "LOCAL"],
  [errno("ECONNRESET"), "connect", "UNREACHABLE"],
  [errno("ECONNRESET"), "handshake", "HANDSHAKE"],
  [errno("ECONNRESET"), "exec", "CLOSED"],
  [level("client-timeout"), "handshake", "HANDSHAKE"],
  [level("protocol"), "handshake", "HANDSHAKE"],
  [level("client-authentication"), "auth", "AUTH"],
  [level("agent"), "auth", "AGENT"],
  [level("client-dns"), "connect", "DNS"],
] as const)("%s during %s maps to %s, keeping the message", (err, stage, code) => {
  const e = classifyError(err, stage, "bzz");
  expect(e.code).toBe(code);
  expect(e.message).toContain(err.message);
  expect(e.cause).toBe(err);
  expect(PROBE_ERROR_CODES).toContain(e.code);
});

test("a ProbeError passes through unchanged; EMFILE says what to do", () => {
  const p = new ProbeError("DEADLINE", "late");
  expect(classifyError(p, "exec", "h")).toBe(p);
  expect(classifyError(errno("EMFILE"), "connect", "h").message).toMatch(/ulimit -n/);
});
