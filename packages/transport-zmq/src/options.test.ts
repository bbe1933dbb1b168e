import { describe, expect, it } from "vitest";
import { Collector } from "./collector.js";
import { Dispatcher } from "./dispatcher.js";
import { generateKeyPair } from "./keys.js";
import { serveTasks, type TaskLink } from "./serve-tasks.js";
import { WorkerLink } from "./worker-link.js";
import type { WorkerLinkOptions } from "./worker-link-types.js";

// Refusals only: every check runs before a socket is created, so nothing here opens one.
const link: WorkerLinkOptions = {
  dispatcher: "tcp://127.0.0.1:1",
  sink: "tcp://127.0.0.1:2",
  id: "w",
  capacity: 4,
};
const store = { has: () => false, write: async () => {} };

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return "did not throw";
}

describe("constructor options", () => {
  it("an unknown key is refused with the nearest known one", () => {
    const typo = { ...link, capacty: 4 } as WorkerLinkOptions;
    expect(() => new WorkerLink(typo)).toThrow("Unknown option `capacty`; did you mean `capacity`?");
    expect(codeOf(() => new WorkerLink(typo))).toBe("UNKNOWN_OPTION");
    expect(() => new Dispatcher({ maxInflight: 5 } as never)).toThrow(/did you mean `maxInFlight`\?/);
    expect(() => new Collector({ store, batchMaxMS: 5 } as never)).toThrow(/did you mean `batchMaxMs`\?/);
    expect(() => new WorkerLink({ ...link, curve: { ...generateKeyPair(), sinkkey: "x" } } as never)).toThrow(
      /Unknown option `curve.sinkkey`; did you mean `curve.sinkKey`\?/,
    );
  });

  it("a bad value names the option, what was expected and what arrived", () => {
    expect(() => new WorkerLink({ ...link, capacity: 0 })).toThrow(
      "Expected `capacity` to be an integer from 1 to 1000000, got 0 (number)",
    );
    expect(codeOf(() => new WorkerLink({ ...link, capacity: 0 }))).toBe("INVALID_OPTION");
    const { capacity: _, ...noCapacity } = link;
    expect(() => new WorkerLink(noCapacity as WorkerLinkOptions)).toThrow(
      "Expected `capacity` to be an integer from 1 to 1000000, got undefined",
    );
    expect(() => new Dispatcher({ heartbeatIntervalMs: "1000" as never })).toThrow(
      'Expected `heartbeatIntervalMs` to be an integer from 1 to 2147483647, got "1000" (string)',
    );
    expect(() => new Dispatcher({ maxAttempts: 0 })).toThrow(
      /^Expected `maxAttempts` to be an integer from 1/,
    );
    expect(() => new Dispatcher({ trust: "10.0.0.0/8" as never })).toThrow(
      'Expected `trust` to be an array of strings, got "10.0.0.0/8" (string)',
    );
    expect(() => new Collector({ store, batchMax: 0 })).toThrow(
      "Expected `batchMax` to be an integer from 1 to 100000, got 0 (number)",
    );
    expect(() => new Collector({ store: {} as never })).toThrow(
      "Expected `store` to be an object with has(job, seq) and write(results), got an object",
    );
    expect(() => new Collector({ store, logger: { warn: "loud" } as never })).toThrow(
      'Expected `logger.warn` to be a function, got "loud" (string)',
    );
  });

  it("a bad CURVE key is named, and a secret key never shown", () => {
    const keys = generateKeyPair();
    const secret = `${keys.secretKey.slice(0, 39)}`;
    let message = "";
    try {
      new WorkerLink({ ...link, curve: { ...keys, secretKey: secret } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      "Expected `curve.secretKey` to be a 40-character Z85 CURVE key, got a 39-character string",
    );
    expect(message).not.toContain(secret);
    expect(() => new Collector({ store, curve: { ...keys, allow: keys.publicKey as never } })).toThrow(
      /^Expected `curve.allow` to be an array of Z85 public keys, got "/,
    );
  });
});

describe("runJob and serveTasks options", () => {
  it("a job spec with an unknown key or a bad target is refused", async () => {
    const d = new Dispatcher({ endpoint: "tcp://127.0.0.1:0" });
    try {
      expect(() => d.runJob({ id: "j", targets: ["a"], comand: "id" } as never)).toThrow(
        "Unknown option `job.comand`; did you mean `job.command`?",
      );
      expect(() => d.runJob({ id: "j", targets: ["a", 7 as never] })).toThrow(
        "Expected `job.targets[1]` to be a non-empty string",
      );
      d.runJob({ id: "j", targets: [] });
      expect(() => d.runJob({ id: "j", targets: [] })).not.toThrow(); // finished at once: the id is free again
    } finally {
      await d.close();
    }
  });

  it("serveTasks refuses a bad concurrency or an unknown option before touching the link", async () => {
    const untouched = {} as TaskLink;
    const handler = async () => undefined;
    await expect(serveTasks(untouched, handler, { concurrency: 0 })).rejects.toThrow(
      "Expected `concurrency` to be an integer from 1 to 1000000, got 0 (number)",
    );
    await expect(serveTasks(untouched, handler, { concurency: 2 } as never)).rejects.toThrow(
      "Unknown option `concurency`; did you mean `concurrency`?",
    );
    await expect(serveTasks(untouched, handler, { concurrency: 1, signal: "stop" as never })).rejects.toThrow(
      'Expected `signal` to be an AbortSignal, got "stop" (string)',
    );
  });
});
