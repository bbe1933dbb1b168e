import { decode, encode } from "@uptime/protocol";
import { describe, expect, it } from "vitest";
import { toResult } from "./to-result.js";

const task = { v: 1 as const, t: "task" as const, job: "j1", seq: 3, attempt: 1, target: "web1" };

describe("toResult", () => {
  it("keeps the inventory's name as target and carries where ssh_config sent it", () => {
    const body = toResult(
      task,
      {
        ok: false,
        target: "web1",
        error: { code: "HOSTKEY_UNKNOWN", message: "no key", hop: "bastion" },
        durationMs: 12.34,
        attempts: 1,
        resolved: { hostname: "10.1.2.3", port: 2222, user: "ops", jump: ["bastion"] },
      },
      "w1",
      0,
    );
    expect(body).toMatchObject({
      target: "web1",
      resolved: { hostname: "10.1.2.3", port: 2222, user: "ops", jump: ["bastion"] },
      error: { code: "HOSTKEY_UNKNOWN", hop: "bastion" },
    });
    // What the sink receives after the wire.
    const r = decode(encode(body));
    expect(r.ok && r.message).toMatchObject({ resolved: { hostname: "10.1.2.3", jump: ["bastion"] } });
  });
});
