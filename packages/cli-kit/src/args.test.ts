import { describe, expect, it } from "vitest";
import {
  type FlagSpec,
  MAX_DURATION_MS,
  parseCli,
  parseDuration,
  parseEndpoint,
  parseInteger,
  parseText,
  parseWith,
  UsageError,
} from "./args.js";

const spec = {
  name: "uptime-demo",
  version: "1.2.3",
  summary: "a test",
  usage: ["uptime-demo [options] FILE"],
  flags: {
    endpoint: {
      type: "string",
      short: "s",
      env: "DEMO_ENDPOINT",
      default: "tcp://x:1",
      description: "where",
    },
    user: { type: "string", short: "u", env: "DEMO_USER", description: "who" },
    verbose: { type: "boolean", env: "DEMO_VERBOSE", description: "talk" },
  },
} satisfies { flags: Record<string, FlagSpec> } & Parameters<typeof parseCli>[0];

describe("parseCli", () => {
  it("takes flags, then environment, then defaults", () => {
    const r = parseCli(spec, ["-u", "alice", "f.txt"], { DEMO_ENDPOINT: "tcp://env:2", DEMO_VERBOSE: "1" });
    expect(r).toEqual({
      kind: "run",
      flags: { endpoint: "tcp://env:2", user: "alice", verbose: true },
      positionals: ["f.txt"],
    });
    const d = parseCli(spec, [], {});
    expect(d.kind === "run" && d.flags).toEqual({ endpoint: "tcp://x:1", user: undefined, verbose: false });
  });

  it("a wrong flag is a usage error naming it", () => {
    expect(() => parseCli(spec, ["--nope"], {})).toThrow(UsageError);
    expect(() => parseCli(spec, ["--nope"], {})).toThrow(/--nope/);
    expect(() => parseCli(spec, ["-u"], {})).toThrow(/-u/);
    expect(() => parseCli(spec, [], { DEMO_VERBOSE: "maybe" })).toThrow(/DEMO_VERBOSE/);
  });

  it("a string flag's value may start with a dash (Z85 keys do), unless it is itself a flag", () => {
    const key = "-x3#a]Lm7Vb?fQ0Z1pR8sT+eN4kYw9cU2oH5i6j";
    const r = parseCli(spec, ["--endpoint", key, "-u", key], {});
    expect(r.kind === "run" && r.flags).toMatchObject({ endpoint: key, user: key });
    expect(() => parseCli(spec, ["-u", "--verbose"], {})).toThrow(/-u/);
    const v = parseCli(spec, ["--", "-u", "-abc"], {});
    expect(v.kind === "run" && v.positionals).toEqual(["-u", "-abc"]);
  });

  it("help lists every flag with its env and default; version prints the version", () => {
    const h = parseCli(spec, ["--help"], {});
    expect(h.kind).toBe("help");
    if (h.kind === "help") {
      expect(h.text).toContain("--endpoint VALUE");
      expect(h.text).toContain("env: DEMO_ENDPOINT");
      expect(h.text).toContain("default: tcp://x:1");
    }
    expect(parseCli(spec, ["-V"], {})).toEqual({ kind: "version", text: "uptime-demo 1.2.3" });
  });
});

describe("value parsers", () => {
  it("integers and durations", () => {
    expect(parseInteger("--c", "10", 1)).toBe(10);
    expect(() => parseInteger("--c", "0", 1)).toThrow(/between 1/);
    expect(() => parseInteger("--c", "ten", 1)).toThrow(/whole number/);
    expect(parseDuration("--t", "5s")).toBe(5000);
    expect(parseDuration("--t", "250")).toBe(250);
    expect(parseDuration("--t", "2m")).toBe(120_000);
    expect(() => parseDuration("--t", "soon")).toThrow(/duration/);
    expect(parseDuration("--t", "1h")).toBe(3_600_000);
  });

  it("durations are range-checked: at least 1 ms, at most Node's timer limit, naming the flag", () => {
    expect(() => parseDuration("--deadline", "0")).toThrow(UsageError);
    expect(() => parseDuration("--deadline", "0")).toThrow(/^--deadline must be a duration from 1ms to /);
    expect(() => parseDuration("--deadline", "0.4ms")).toThrow(/--deadline/);
    expect(() => parseDuration("--deadline", "36000m")).toThrow(
      '--deadline must be a duration from 1ms to 2147483647ms (24.9 days), got "36000m"',
    );
    expect(parseDuration("--deadline", `${MAX_DURATION_MS}`)).toBe(MAX_DURATION_MS);
    expect(() => parseDuration("--deadline", `${MAX_DURATION_MS + 1}ms`)).toThrow(/--deadline/);
    expect(parseDuration("--linger", "0", { min: 0 })).toBe(0);
    expect(() => parseDuration("--hb", "1m", { max: 30_000 })).toThrow(/from 1ms to 30000ms/);
  });

  it("integers name the flag and the range; text has a length limit", () => {
    expect(() => parseInteger("--port", "70000", 1, 65_535)).toThrow(
      "--port must be between 1 and 65535, got 70000",
    );
    expect(() => parseInteger("--port", "-1", 1, 65_535)).toThrow(/--port must be a whole number/);
    expect(parseText("--command", "id", 10)).toBe("id");
    expect(() => parseText("--command", "x".repeat(11), 10)).toThrow(
      "--command must be 1 to 10 characters, got 11",
    );
  });

  it("endpoints", () => {
    expect(parseEndpoint("--sink", "tcp://127.0.0.1:5558")).toBe("tcp://127.0.0.1:5558");
    expect(parseEndpoint("--bind", "tcp://*:5557", { bind: true })).toBe("tcp://*:5557");
    expect(parseEndpoint("--sink", "ipc:///tmp/x.sock")).toBe("ipc:///tmp/x.sock");
    expect(() => parseEndpoint("--sink", "tcp://*:5558")).toThrow(/only a bind/);
    expect(() => parseEndpoint("--sink", "127.0.0.1:5558")).toThrow(/--sink must be an endpoint/);
    expect(() => parseEndpoint("--sink", "tcp://h:70000")).toThrow(/out of range/);
  });
});

describe("parseWith", () => {
  it("returns the parsed value, and reports a library's error as a usage error of the app", () => {
    expect(parseWith("uptime-demo", () => ["10.0.0.0/8"])).toEqual(["10.0.0.0/8"]);
    const bad = new TypeError('Expected `--trust` to be a CIDR network, got "10.0.0.0/33"');
    let thrown: unknown;
    try {
      parseWith("uptime-demo", () => {
        throw bad;
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect(thrown).toMatchObject({ code: "USAGE", cause: bad });
    expect((thrown as Error).message).toBe(`uptime-demo: ${bad.message}`);
  });
});
