import { describe, expect, it } from "vitest";
import {
  checkChoice,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkString,
  checkTimeout,
  describeValue,
  MAX_TIMER_MS,
  nearestName,
} from "./check.js";

/** The `code` of what `fn` throws. */
function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return undefined;
}

describe("option checks", () => {
  it("integers: fallback for undefined, p-queue style message otherwise", () => {
    expect(checkInteger("port", undefined, 22, { min: 1, max: 65_535 })).toBe(22);
    expect(checkInteger("port", 2222, 22, { min: 1, max: 65_535 })).toBe(2222);
    expect(() => checkInteger("port", 70_000, 22, { min: 1, max: 65_535 })).toThrow(
      "Expected `port` to be an integer from 1 to 65535, got 70000 (number)",
    );
    expect(codeOf(() => checkInteger("port", 0, 22, { min: 1, max: 65_535 }))).toBe("INVALID_OPTION");
    expect(() => checkInteger("retries", -1, 0, { min: 0 })).toThrow(
      "Expected `retries` to be an integer >= 0, got -1 (number)",
    );
    expect(() => checkInteger("concurrency", "10", 1, { min: 1 })).toThrow(/got "10" \(string\)/);
    expect(() => checkInteger("concurrency", 1.5, 1, { min: 1 })).toThrow(/got 1.5 \(number\)/);
    expect(() => checkInteger("concurrency", Number.NaN, 1, { min: 1 })).toThrow(/got NaN/);
  });

  it("timeouts stop at Node's timer limit", () => {
    expect(checkTimeout("deadlineMs", MAX_TIMER_MS, 1)).toBe(MAX_TIMER_MS);
    expect(() => checkTimeout("deadlineMs", MAX_TIMER_MS + 1, 1)).toThrow(
      "Expected `deadlineMs` to be a whole number of milliseconds from 1 to 2147483647, got 2147483648 (number)",
    );
    expect(() => checkTimeout("deadlineMs", 0, 1)).toThrow(/from 1 to/);
    expect(checkTimeout("lingerMs", 0, 1, 0)).toBe(0);
    expect(() => checkTimeout("deadlineMs", Number.POSITIVE_INFINITY, 1)).toThrow(/Infinity/);
  });

  it("strings, choices and objects", () => {
    expect(checkString("command", undefined, "uptime")).toBe("uptime");
    expect(() => checkString("command", "", "uptime")).toThrow(
      'Expected `command` to be a non-empty string of at most 4096 characters, got "" (string)',
    );
    expect(() => checkString("command", "x".repeat(11), "uptime", 10)).toThrow(/at most 10/);
    expect(checkChoice("policy", "off", "strict", ["strict", "off"] as const)).toBe("off");
    expect(() => checkChoice("policy", "yes", "strict", ["strict", "accept-new", "off"] as const)).toThrow(
      'Expected `policy` to be "strict", "accept-new" or "off", got "yes" (string)',
    );
    expect(checkObject("options", undefined)).toEqual({});
    expect(() => checkObject("options", "web1")).toThrow(
      'Expected `options` to be an object, got "web1" (string)',
    );
    expect(() => checkObject("options", [])).toThrow(/got an array/);
  });

  it("describes values briefly", () => {
    expect(describeValue(null)).toBe("null");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue({})).toBe("an object");
    expect(describeValue(() => 1)).toBe("a function");
    expect(describeValue("x".repeat(500)).length).toBeLessThan(80);
  });

  it("unknown keys name the nearest known one", () => {
    const known = ["command", "concurrency", "signal", "port"];
    expect(() => checkKnownKeys({ comand: "id" }, known)).toThrow(
      "Unknown option `comand`; did you mean `command`?",
    );
    expect(() => checkKnownKeys({ concurency: 1 }, known)).toThrow(/did you mean `concurrency`/);
    expect(codeOf(() => checkKnownKeys({ concurency: 1 }, known))).toBe("UNKNOWN_OPTION");
    expect(() => checkKnownKeys({ maxConection: 1 }, ["maxConnections"], "pool.")).toThrow(
      "Unknown option `pool.maxConection`; did you mean `pool.maxConnections`?",
    );
    expect(() => checkKnownKeys({ zzzzzz: 1 }, known)).toThrow(
      "Unknown option `zzzzzz`; known options: command, concurrency, signal, port",
    );
    expect(() => checkKnownKeys({ port: 1, signal: undefined }, known)).not.toThrow();
    expect(nearestName("Port", known)).toBe("port");
    expect(nearestName("singal", ["signal", "command"])).toBe("signal");
  });
});
