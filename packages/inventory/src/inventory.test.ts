import { LIMITS } from "@uptime/protocol";
import { describe, expect, test } from "vitest";
import { parseGroups } from "./groups.js";
import { InventoryBuilder, parseInventory } from "./inventory.js";
import { formatProblem } from "./problems.js";
import { expandHosts, HostRangeError } from "./range.js";
import { failedTargets, latestResults } from "./results.js";

const texts = (inv: { targets: { text: string }[] }) => inv.targets.map((t) => t.text);

describe("each line is checked against the protocol's limits", () => {
  test("a host name past the target limit is one bad line, the others stay", () => {
    const long = `h${"x".repeat(4999)}`;
    const inv = parseInventory(`web1\n${long}\nweb2\n`, { source: "hosts.txt" });
    expect(texts(inv)).toEqual(["web1", "web2"]);
    expect(inv.errors).toHaveLength(1);
    const shown = formatProblem(inv.errors[0]!);
    expect(shown).toMatch(
      /^hosts\.txt:2: target is 5,000 characters long, more than the protocol's limit of 512/,
    );
    expect(shown.length).toBeLessThan(400); // the 5,000 characters are cut, with the length said
    expect(shown).toContain("(5000 characters)");
  });

  test("a target of exactly the limit passes, one more does not", () => {
    const at = `u@${"a".repeat(LIMITS.target - 7)}:22`; // "u@" + host + ":22"
    expect(at.length).toBe(LIMITS.target - 2);
    const fits = `${"a".repeat(LIMITS.target)}`;
    const over = `${"a".repeat(LIMITS.target + 1)}`;
    const inv = parseInventory(`${at}\n${fits}\n${over}\n`);
    expect(inv.targets.map((t) => t.line)).toEqual([1, 2]);
    expect(inv.errors.map((e) => e.line)).toEqual([3]);
  });

  test("a range whose expansion breaks the limit names the item", () => {
    const inv = parseInventory(`${"a".repeat(511)}[1-20]\nok1\n`);
    expect(texts(inv).map((t) => t.length)).toEqual([512, 512, 512, 512, 512, 512, 512, 512, 512, 3]);
    expect(inv.errors[0]!.message).toMatch(
      /^11 of the 20 hosts it expands to are invalid, the first: target is 513 characters long/,
    );
  });
});

describe("line ends and bad bytes", () => {
  test.each([
    ["\\n", "\n"],
    ["\\r\\n", "\r\n"],
    ["\\r", "\r"],
  ])("%s line ends", (_, eol) => {
    const inv = parseInventory(
      ["# fleet", "web1", "", "root@db1:2222  # primary", "bad host", "[::1]:22"].join(eol),
    );
    expect(inv.targets.map((t) => [t.line, t.text])).toEqual([
      [2, "web1"],
      [4, "root@db1:2222"],
      [6, "[::1]:22"],
    ]);
    expect(inv.errors.map((e) => e.line)).toEqual([5]);
  });

  test("warnings show NUL, ESC, DEL, C1 and bidi controls escaped, never raw", () => {
    const bad = [
      "web\u00001",
      "a\u001b]52;c;eA==\u0007b",
      "x\u007fy",
      "p\u009bq",
      "evil\u202eexe",
      "r\u2028s",
      "u\ttab",
    ];
    const inv = parseInventory(`${bad.join("\n")}\nok\n`);
    expect(texts(inv)).toEqual(["ok"]);
    expect(inv.errors).toHaveLength(bad.length);
    for (const e of inv.errors) {
      const shown = formatProblem(e);
      expect(shown).toMatch(/control character/);
      expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    }
    expect(formatProblem(inv.errors[0]!)).toContain('"web\\u00001"');
  });
});

describe("ranges, groups, exclusions, duplicates", () => {
  test("cartesian product, first group outermost, padding kept", () => {
    expect(expandHosts("r[1-2]n[08-10]")).toEqual(["r1n08", "r1n09", "r1n10", "r2n08", "r2n09", "r2n10"]);
  });

  test("IPv6 brackets are addresses, not ranges", () => {
    expect(texts(parseInventory("root@[::1]:22\n[fe80::1%eth0]:2200\n"))).toEqual([
      "root@[::1]:22",
      "[fe80::1%eth0]:2200",
    ]);
  });

  test("a bad range is FILE:LINE: with the reason, and the rest runs", () => {
    const inv = parseInventory("web[1-3]\nweb[5-1]\nn[01-100]\ndb1\n", { source: "h" });
    expect(texts(inv)).toEqual(["web1", "web2", "web3", "db1"]);
    expect(inv.errors.map(formatProblem)).toEqual([
      'h:2: "5-1" in [5-1]: 5 is above 1: "web[5-1]"',
      'h:3: "01-100" in [01-100]: the bounds are padded differently: "n[01-100]"',
    ]);
  });

  test("a range past maxHosts is refused before it is expanded", () => {
    expect(() => expandHosts("n[1-2000000]")).toThrow(HostRangeError);
    expect(() => expandHosts("n[1-2000000]")).toThrow(/2,000,000 hosts, more than the limit of 1,000,000/);
    expect(() => expandHosts("a[1-1000]b[1-1000]c[1-1000]")).toThrow(/1,000,000,000 hosts/);
    const inv = parseInventory("x[1-50]\ny[1-60]\nz1\n", { maxHosts: 100 });
    expect(inv.targets).toHaveLength(51);
    expect(inv.errors[0]!.message).toMatch(/"y\[1-60\]" adds 60 hosts to 50, more than the limit of 100/);
  });

  test("duplicates from lines, ranges, groups and -w are merged and counted", () => {
    const { groups } = parseGroups("web: web[1-3]\n");
    const inv = new InventoryBuilder({ groups })
      .addText("web1\nweb[1-2]\nWEB3\n@web\nroot@web1\n", "hosts")
      .addList("web2,web4", "-w")
      .build();
    expect(texts(inv)).toEqual(["web1", "web2", "WEB3", "root@web1", "web4"]);
    expect(inv.duplicates).toBe(5);
  });

  test("-x without user or port removes the host with any user and port", () => {
    const inv = new InventoryBuilder()
      .addList("web1,root@web1:2222,web2:22,ops@web2,web3", "-w")
      .exclude("web1,web2:22", "-x")
      .build();
    expect(texts(inv)).toEqual(["ops@web2", "web3"]);
    expect(inv.excluded).toBe(3);
  });

  test("group problems: unknown, no groups file, a cycle, a bad groups line", () => {
    const { groups, problems } = parseGroups("a: @b\nb: @a\nbad line\n9x!: h1\nok: h[1-2]\n", "groups.cfg");
    expect(problems.map(formatProblem)).toEqual([
      'groups.cfg:3: expected "name: hosts": "bad line"',
      'groups.cfg:4: bad group name "9x!" (letters, digits, "_", "-" and "."): "9x!: h1"',
    ]);
    const inv = new InventoryBuilder({ groups }).addText("@a\n@nope\n@ok\n", "f").build();
    expect(texts(inv)).toEqual(["h1", "h2"]);
    expect(inv.errors.map((e) => [e.line, e.message])).toEqual([
      [1, "group @a contains itself (@a -> @b -> @a)"],
      [2, "unknown group @nope"],
    ]);
    expect(parseInventory("@web\n").errors[0]!.message).toBe("@web: no groups file is given");
  });
});

describe("latest results of an earlier run", () => {
  test("NDJSON and both text error forms; a later line wins; codes filter", () => {
    const text = [
      '{"job":"j","seq":0,"target":"web1","ok":false,"error":{"code":"AUTH","message":"denied"}}',
      '{"job":"j","seq":1,"target":"web2","ok":true,"uptime":{"raw":"","text":"1 day","seconds":86400}}',
      "worker_id: w1_3, host: web3, error: CONNECT_TIMEOUT no TCP connection within 5000 ms",
      'worker_id: w1_4, host: root@[::1]:2222, error: EXIT_STATUS "exit status 1: host: x, result: 9 days"',
      "worker_id: w1_5, host: web5, result: 65 days, 17:07",
      "worker_id: w1_6, host: web1, result: 2 days",
      '{"target":"web2","ok":false,"error":{"code":"AUTH","message":"x"}}',
      "job j: 5 hosts (summary lines are skipped)",
      "{not json",
    ].join("\n");
    const { results, problems } = latestResults(text, "r.txt");
    expect(problems.map((p) => [p.line, p.message])).toEqual([[9, "not valid JSON"]]);
    expect(failedTargets(results)).toEqual(["web3", "root@[::1]:2222", "web2"]);
    expect(failedTargets(results, ["AUTH", "CONNECT_TIMEOUT"])).toEqual(["web3", "web2"]);
    expect(results.get("root@[::1]:2222")?.code).toBe("EXIT_STATUS");
  });

  test("the sink's CSV, by its header: quoted cells, a bad row is a problem", () => {
    const text = [
      "job,seq,target,worker,slot,ok,uptime_text,uptime_seconds,users,load1,load5,load15,error_code,error_message,duration_ms,attempt,at,hostname,jump,booted_at,boot_precision_s",
      'j,0,web1,w1,3,false,,,,,,,AUTH,"permission denied (tried ""key"", agent)",12.0,1,2026-12-01T00:00:00.000Z,,,,',
      'j,1,web2,w1,4,true,"65 days, 17:07",5677620,1,0.1,0.2,0.3,,,3.0,1,2026-12-01T00:00:00.000Z,web2,"b1,b2",2026-09-26T06:53:00.000Z,60',
      "j,2,web3,w1,5,false,,,,,,,DNS,no such host,1.0,1,2026-12-01T00:00:00.000Z,,,,",
      'j,3,"web4,broken',
      "j,4,web2,w1,4,false,,,,,,,HANDSHAKE,reset,1.0,2,2026-12-01T00:00:01.000Z,,,,",
    ].join("\n");
    const { results, problems } = latestResults(text, "r.csv");
    expect(problems.map((p) => p.line)).toEqual([5]);
    expect(failedTargets(results)).toEqual(["web1", "web3", "web2"]);
    expect(failedTargets(results, ["AUTH"])).toEqual(["web1"]);
  });
});

describe("IPv6 targets are one host however they are spelled", () => {
  test("zeros compressed or not, upper or lower case: merged, and -x matches any spelling", () => {
    const inv = new InventoryBuilder()
      .addList("[2001:DB8:0:0::1]:22,[2001:db8::1]:22,2001:0db8::0001,[fe80::1%eth0],[FE80::0:1%eth0]", "-w")
      .exclude("[2001:db8::0:1]", "-x")
      .build();
    expect(texts(inv)).toEqual(["[fe80::1%eth0]"]);
    expect(inv.duplicates).toBe(2); // the :22 pair and the fe80 pair (no port is not port 22)
    expect(inv.excluded).toBe(2);
  });
});
