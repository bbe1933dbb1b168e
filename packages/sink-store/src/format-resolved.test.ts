import type { Result } from "@uptime/protocol";
import { describe, expect, it } from "vitest";
import { CSV_HEADER, formatResult } from "./format.js";

describe("resolved hostname and jump chain", () => {
  it("CSV has hostname and jump columns; NDJSON carries resolved as is", () => {
    const r: Result = {
      v: 1,
      t: "result",
      job: "j",
      seq: 0,
      attempt: 1,
      target: "web1",
      worker: "w",
      slot: 0,
      durationMs: 1,
      at: 0,
      resolved: { hostname: "10.1.2.3", port: 2222, user: "ops", jump: ["bastion", "gw"] },
      ok: false,
      error: { code: "AUTH", message: "denied", hop: "gw" },
    };
    expect(CSV_HEADER.trim().split(",").slice(-4, -2)).toEqual(["hostname", "jump"]);
    // error results leave the two boot columns empty
    expect(formatResult(r, "csv").trim().split(",").slice(-5)).toEqual([
      "10.1.2.3",
      '"bastion',
      'gw"',
      "",
      "",
    ]);
    expect(JSON.parse(formatResult(r, "ndjson"))).toMatchObject({
      target: "web1",
      resolved: { hostname: "10.1.2.3", jump: ["bastion", "gw"] },
      error: { hop: "gw" },
    });
  });
});
