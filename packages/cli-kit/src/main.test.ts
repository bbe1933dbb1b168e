import type { Logger as SharedLogger } from "@uptime/protocol/check";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { UsageError } from "./args.js";
import { createLogger, EXIT, exitCodeFor, packageLogger } from "./main.js";

describe("exit codes", () => {
  it("are chosen by the error's code, not its class", () => {
    expect(exitCodeFor(new UsageError("x"))).toBe(EXIT.usage);
    // A key-file error from transport-zmq, or any error carrying one of the usage codes.
    for (const code of ["KEY_UNREADABLE", "KEY_PERMISSIONS", "KEY_INVALID", "KEY_EXISTS", "USAGE"]) {
      expect(exitCodeFor(Object.assign(new Error("x"), { code })), code).toBe(EXIT.usage);
    }
    expect(exitCodeFor(Object.assign(new Error("bind"), { code: "EADDRINUSE" }))).toBe(EXIT.failed);
    expect(exitCodeFor(new TypeError("Expected `deadlineMs` ..."))).toBe(EXIT.failed);
    expect(exitCodeFor("a string")).toBe(EXIT.failed);
    expect(exitCodeFor(null)).toBe(EXIT.failed);
  });
});

describe("logger", () => {
  function capture(): string[] {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    onTestFinished(() => spy.mockRestore());
    return lines;
  }

  it("is the shared Logger shape: (message, fields?) at every level, fields as key=value", () => {
    const lines = capture();
    const log = createLogger("uptime-demo", { verbose: false });
    const shared: SharedLogger = log;
    shared.warn?.("worker lost", { worker: "w1", requeued: 3 });
    log.error("bind failed");
    log.debug("hidden without verbose");
    log.info("shown", {});
    expect(lines).toEqual([
      "uptime-demo: warning: worker lost (worker=w1, requeued=3)\n",
      "uptime-demo: error: bind failed\n",
      "uptime-demo: shown\n",
    ]);
  });

  it("packageLogger shows the packages' info lines only with --verbose", () => {
    const lines = capture();
    packageLogger(createLogger("a")).info("routine", { n: 1 });
    packageLogger(createLogger("b", { verbose: true })).info("routine", { n: 1 });
    packageLogger(createLogger("c")).warn("loud");
    expect(lines).toEqual(["b: routine (n=1)\n", "c: warning: loud\n"]);
  });
});
