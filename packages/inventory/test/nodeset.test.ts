import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expandHosts, InventoryBuilder, parseGroups } from "../src/index.js";

// Range and group expansion compared with ClusterShell's own `nodeset -e` on the same
// expressions (Debian package clustershell; .ci/run installs it). Missing nodeset fails.
async function nodeset(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ ok: true; hosts: string[] } | { ok: false }> {
  return new Promise((resolve, reject) => {
    execFile("nodeset", args, { encoding: "utf8", env: { ...process.env, ...env } }, (err, stdout) => {
      if ((err as NodeJS.ErrnoException | null)?.code === "ENOENT") {
        reject(new Error("nodeset is not installed: apt-get install clustershell"));
      } else if (err) resolve({ ok: false });
      else resolve({ ok: true, hosts: stdout.split(/\s+/).filter(Boolean) });
    });
  });
}

const sorted = (a: string[]) => [...a].sort();

const EXPAND = [
  "web[01-12].dc1",
  "node[1-3,7,10-12]",
  "r[1-2]n[01-03]",
  "rack[1-2]-node[1-3]-p[8-9]",
  "n[009-011]",
  "n[08-10]",
  "n[0-10]",
  "n[0-10/3]",
  "n[1-10/2]",
  "n[1-3,2-4]",
  "n[08-10,9]",
  "n[1,01]",
  "n[0001-0003]",
  "n[1-1]",
  "n[03]",
  "n[ 1-2]",
  "10.0.0.[1-3]",
  "10.[0-1].0.[1-2]",
  "u@h[1-2]:22",
  "h[1-2]:[22-23]",
  "plain.example.com",
  "n[9999999999-10000000001]",
] as const;

const BAD = [
  "n[01-100]",
  "n[1-01]",
  "n[00-2]",
  "n[001-10]",
  "n[5-1]",
  "n[a-c]",
  "n[]",
  "n[1-3",
  "n1]",
  "n[1-3/0]",
  "n[1/2]",
  "n[1--2]",
  "n[1-2,]",
  "n[,1]",
  "n[[1]]",
] as const;

describe("ranges: the same hosts as ClusterShell's nodeset -e", () => {
  test.concurrent.each(EXPAND)("%s", async (expr) => {
    const ref = await nodeset(["-e", expr]);
    expect(ref.ok, `nodeset -e ${expr}`).toBe(true);
    const ours = expandHosts(expr);
    expect(new Set(ours).size).toBe(ours.length);
    expect(sorted(ours)).toEqual(sorted((ref as { hosts: string[] }).hosts));
  });

  test.concurrent.each(BAD)("%s is an error for both", async (expr) => {
    expect((await nodeset(["-e", expr])).ok, `nodeset -e ${expr}`).toBe(false);
    expect(() => expandHosts(expr)).toThrow(/./);
  });

  test("a comma list like pdsh's -w, against nodeset -e (duplicates merged by both)", async () => {
    const list = "web[1-3],db1,web2,n[08-10,9],db1";
    const ours = new InventoryBuilder().addList(list, "-w").build();
    const ref = await nodeset(["-e", list]);
    expect(ref.ok).toBe(true);
    expect(sorted(ours.targets.map((t) => t.text))).toEqual(sorted((ref as { hosts: string[] }).hosts));
    expect(ours.duplicates).toBe(2);
  });

  test("exclusions like nodeset -x", async () => {
    const ours = new InventoryBuilder().addList("web[01-12]", "-w").exclude("web[03-05],web11", "-x").build();
    const ref = await nodeset(["-e", "web[01-12]", "-x", "web[03-05],web11"]);
    expect(ref.ok).toBe(true);
    expect(sorted(ours.targets.map((t) => t.text))).toEqual(sorted((ref as { hosts: string[] }).hosts));
    expect(ours.excluded).toBe(4);
  });
});

describe("groups: the same hosts as nodeset with the same groups file", () => {
  test.concurrent.for(["@web", "@db", "@all", "@web,x[1-2]", "@nested"])(
    "%s",
    async (expr, { onTestFinished }) => {
      const dir = mkdtempSync(join(tmpdir(), "inventory-nodeset-"));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const groupsText =
        "# test groups\nweb: web[01-04]\ndb: db1,db2 db3\nall: @web,@db\nnested: @all,extra[1-2]\n";
      writeFileSync(join(dir, "groups"), groupsText);
      writeFileSync(
        join(dir, "groups.conf"),
        `[Main]\ndefault: local\n[local]\nmap: sed -n 's/^$GROUP:\\(.*\\)/\\1/p' ${join(dir, "groups")}\n`,
      );
      const ref = await nodeset(["-e", expr], { CLUSTERSHELL_CFGDIR: dir });
      expect(ref.ok, `nodeset -e ${expr}`).toBe(true);
      const { groups, problems } = parseGroups(groupsText);
      expect(problems).toEqual([]);
      const ours = new InventoryBuilder({ groups }).addList(expr, "-w").build();
      expect(ours.errors).toEqual([]);
      expect(sorted(ours.targets.map((t) => t.text))).toEqual(sorted((ref as { hosts: string[] }).hosts));
    },
  );
});
