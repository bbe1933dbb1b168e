import { describe, expect, test } from "vitest";
import { parseInventory } from "./inventory.js";
import { formatTarget, parseTarget } from "./target.js";

describe("parseTarget / formatTarget", () => {
  test.each([
    ["web1", { host: "web1" }],
    ["root@web1", { host: "web1", user: "root" }],
    ["web1.example.com:2222", { host: "web1.example.com", port: 2222 }],
    ["ops@10.0.0.5:22", { host: "10.0.0.5", port: 22, user: "ops" }],
    ["[::1]", { host: "::1" }],
    ["[fe80::1%eth0]:2200", { host: "fe80::1%eth0", port: 2200 }],
    ["admin@[2001:db8::7]:2222", { host: "2001:db8::7", port: 2222, user: "admin" }],
    ["2001:db8::7", { host: "2001:db8::7" }],
    ["jane@corp@bastion", { host: "bastion", user: "jane@corp" }],
  ])("%s", (text, target) => {
    expect(parseTarget(text)).toEqual(target);
    if (text !== "2001:db8::7") expect(formatTarget(parseTarget(text))).toBe(text);
  });

  test.each([
    ["", /empty/],
    ["host:0", /port/],
    ["host:70000", /port/],
    ["host:ssh", /port/],
    ["@host", /user/],
    ["user@", /host/],
    ["[::1", /\]/],
    ["[::1]x", /:port/],
    ["[web1]:22", /IPv6/],
    ["two words", /whitespace/],
    ["bad/host", /host name/],
  ])("rejects %j with a clear TypeError", (text, message) => {
    expect(() => parseTarget(text)).toThrow(TypeError);
    expect(() => parseTarget(text)).toThrow(message);
  });
});

test("parseInventory skips blanks and comments and reports bad lines with their number", () => {
  const inv = parseInventory("# fleet\nweb1\n\n  root@db1:2222  # primary\nbad host\n[::1]:22\nhost:99999\n");
  expect(inv.targets.map((t) => [t.line, t.text])).toEqual([
    [2, "web1"],
    [4, "root@db1:2222"],
    [6, "[::1]:22"],
  ]);
  expect(inv.errors.map((e) => e.line)).toEqual([5, 7]);
  expect(inv.errors[1]!.message).toMatch(/port/);
});
