import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DecodeError, type DecodeErrorCode, decode, encode, type MessageBody } from "./codec.js";
import { LIMITS } from "./limits.js";
import { MESSAGE_KINDS, PROTOCOL_VERSION } from "./schemas.js";

const samples: MessageBody[] = [
  { t: "task", job: "j1", seq: 0, attempt: 1, target: "root@[::1]:2222" },
  { t: "task", job: "j1", seq: 7, attempt: 3, target: "web1", command: "uptime -p" },
  { t: "ready", worker: "worker1", capacity: 100, credit: 110 },
  { t: "credit", worker: "worker1", credit: 5 },
  { t: "heartbeat", from: "sender", inFlight: 3 },
  { t: "heartbeat", from: "worker1" },
  { t: "bye", worker: "worker1" },
  {
    t: "result",
    job: "j1",
    seq: 0,
    attempt: 1,
    target: "web1",
    worker: "worker1",
    slot: 15,
    durationMs: 12.5,
    at: 1_764_000_000_000,
    ok: true,
    uptime: {
      raw: " 10:14:51 up 65 days, 17:07,  1 user,  load average: 0.00, 0.01, 0.05",
      text: "65 days, 17:07",
      seconds: 5_677_620,
      users: 1,
      load: [0, 0.01, 0.05],
    },
  },
  {
    t: "result",
    job: "j1",
    seq: 1,
    attempt: 2,
    target: "bzz",
    worker: "worker1",
    slot: 19,
    durationMs: 3,
    at: 1_764_000_000_000,
    ok: false,
    error: { code: "DNS", message: "getaddrinfo ENOTFOUND bzz" },
  },
  {
    t: "result",
    job: "j1",
    seq: 2,
    attempt: 1,
    target: "web2",
    worker: "worker1",
    slot: 3,
    durationMs: 40,
    at: 1_764_000_000_000,
    resolved: { hostname: "10.1.2.4", port: 2222, user: "ops", jump: ["bastion", "admin@gw:2200"] },
    ok: false,
    error: { code: "HOSTKEY_UNKNOWN", message: "no ssh-ed25519 host key for bastion", hop: "bastion" },
  },
  { t: "receipt", job: "j1", seqs: [0, 1, 2] },
  { t: "receipt", job: "j1", seqs: [3, 4], failed: 1 },
  { t: "job-start", job: "j1", total: 1000, at: 1_764_000_000_000 },
  { t: "job-end", job: "j1", total: 1000, done: 1000, failed: 3, cancelled: false, at: 1_764_000_000_000 },
  { t: "stop", job: "j1", reason: "cancelled by operator" },
];

function expectError(frame: Uint8Array | string, code: DecodeErrorCode) {
  const r = decode(frame);
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(DecodeError);
    expect(r.error.code).toBe(code);
    expect(r.error.message.length).toBeGreaterThan(0);
  }
  return r;
}

describe("round trip", () => {
  it("covers every message kind", () => {
    expect(new Set(samples.map((s) => s.t))).toEqual(new Set(MESSAGE_KINDS));
  });

  it.each(samples.map((s) => [s.t, s] as const))("%s survives encode and decode", (_kind, sample) => {
    const frame = encode(sample);
    const r = decode(frame);
    expect(r).toEqual({ ok: true, message: { ...sample, v: PROTOCOL_VERSION } });
    // strings decode too
    expect(decode(frame.toString("utf8")).ok).toBe(true);
  });

  it("puts the protocol version on every message", () => {
    for (const s of samples) expect(JSON.parse(encode(s).toString()).v).toBe(PROTOCOL_VERSION);
  });

  it("refuses to encode a message over the frame limit", () => {
    expect(() => encode({ t: "stop", job: "j1", reason: "x".repeat(LIMITS.maxFrameBytes) })).toThrow(
      TypeError,
    );
  });
});

describe("adversarial input", () => {
  it("random bytes give a typed error", () => {
    for (let i = 0; i < 2000; i++) {
      const r = decode(randomBytes(1 + (i % 300)));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBeInstanceOf(DecodeError);
    }
  });

  it("every truncation of every valid frame gives a typed error", () => {
    for (const s of samples) {
      const frame = encode(s);
      for (let n = 0; n < frame.length; n++) {
        const r = decode(frame.subarray(0, n));
        expect(r.ok, `${s.t} cut at ${n}`).toBe(false);
        if (!r.ok) expect(r.error).toBeInstanceOf(DecodeError);
      }
    }
  });

  it("invalid UTF-8", () => {
    expectError(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), "NOT_UTF8");
  });

  it("not JSON, not an object", () => {
    expectError("{", "NOT_JSON");
    expectError("", "NOT_JSON");
    expectError("[1,2]", "NOT_OBJECT");
    expectError("null", "NOT_OBJECT");
    expectError('"task"', "NOT_OBJECT");
    expectError("42", "NOT_OBJECT");
  });

  it("unknown or missing versions", () => {
    const body = { t: "bye", worker: "w" };
    expectError(JSON.stringify({ ...body, v: 2 }), "UNKNOWN_VERSION");
    expectError(JSON.stringify({ ...body, v: 0 }), "UNKNOWN_VERSION");
    expectError(JSON.stringify({ ...body, v: "1" }), "UNKNOWN_VERSION");
    expectError(JSON.stringify(body), "UNKNOWN_VERSION");
  });

  it("unknown kinds", () => {
    expectError(JSON.stringify({ v: 1, t: "launch-missiles" }), "UNKNOWN_KIND");
    expectError(JSON.stringify({ v: 1, t: { toString: 1 } }), "UNKNOWN_KIND");
    expectError(JSON.stringify({ v: 1 }), "UNKNOWN_KIND");
    expectError(JSON.stringify({ v: 1, t: "__proto__" }), "UNKNOWN_KIND");
  });

  it("wrong types name the field", () => {
    const task = { v: 1, t: "task", job: "j", seq: 1, attempt: 1, target: "h" };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...task, seq: "1" }, "seq"],
      [{ ...task, seq: -1 }, "seq"],
      [{ ...task, seq: 1.5 }, "seq"],
      [{ ...task, attempt: 0 }, "attempt"],
      [{ ...task, target: "" }, "target"],
      [{ ...task, target: null }, "target"],
      [{ ...task, job: 5 }, "job"],
      [{ v: 1, t: "receipt", job: "j", seqs: [1, "2"] }, "seqs.1"],
      [{ v: 1, t: "receipt", job: "j", seqs: [] }, "seqs"],
      [{ v: 1, t: "result", ok: "yes" }, "ok"],
      [
        {
          v: 1,
          t: "result",
          job: "j",
          seq: 0,
          attempt: 1,
          target: "h",
          worker: "w",
          slot: 0,
          durationMs: 1,
          at: 0,
          ok: true,
          uptime: { raw: "", text: "", seconds: 1, load: [1, 2] },
        },
        "uptime.load.2",
      ],
      [
        {
          v: 1,
          t: "result",
          job: "j",
          seq: 0,
          attempt: 1,
          target: "h",
          worker: "w",
          slot: 0,
          durationMs: 1,
          at: 0,
          resolved: { hostname: "h", port: 0, user: "u" },
          ok: false,
          error: { code: "DNS", message: "" },
        },
        "resolved.port",
      ],
    ];
    for (const [msg, path] of cases) {
      const r = expectError(JSON.stringify(msg), "INVALID");
      if (!r.ok) expect(r.error.path, JSON.stringify(msg)).toBe(path);
    }
  });

  it("oversized strings and frames", () => {
    expectError(JSON.stringify({ v: 1, t: "bye", worker: "w".repeat(LIMITS.id + 1) }), "INVALID");
    // A stop names its job: the job-less form is malformed, not "stop everything".
    expectError(JSON.stringify({ v: 1, t: "stop", reason: "shutdown" }), "INVALID");
    expectError(
      JSON.stringify({ v: 1, t: "task", job: "j", seq: 1, attempt: 1, target: "h".repeat(600) }),
      "INVALID",
    );
    expectError(
      JSON.stringify({ v: 1, t: "stop", job: "j1", reason: "r".repeat(LIMITS.maxFrameBytes) }),
      "TOO_LARGE",
    );
    expectError(Buffer.alloc(LIMITS.maxFrameBytes + 1, 0x20), "TOO_LARGE");
    const seqs = Array.from({ length: LIMITS.receiptSeqs + 1 }, (_, i) => i);
    expectError(JSON.stringify({ v: 1, t: "receipt", job: "j", seqs }), "INVALID");
  });

  it("deeply nested junk", () => {
    const deep = `${"[".repeat(30_000)}${"]".repeat(30_000)}`;
    expectError(deep, "NOT_OBJECT");
    const deepObj = `{"v":1,"t":"bye","worker":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`;
    expectError(deepObj, "INVALID");
    const unbalanced = "[".repeat(60_000);
    expectError(unbalanced, "NOT_JSON");
    expect(decode(deep, { maxBytes: 1 << 20 }).ok).toBe(false);
  });

  it("prototype pollution attempts do not leak", () => {
    const r = decode('{"v":1,"t":"bye","worker":"w","__proto__":{"polluted":true}}');
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
