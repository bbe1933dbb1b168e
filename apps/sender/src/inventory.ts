import { readFile } from "node:fs/promises";
import { UsageError } from "@uptime/cli-kit";
import {
  failedTargets,
  formatProblem,
  formatTarget,
  type Groups,
  InventoryBuilder,
  latestResults,
  parseGroups,
  parseTarget,
  type Target,
} from "@uptime/inventory";

/** Where the sender's hosts come from (flags and positionals, already read). */
export interface HostListOptions {
  /** HOSTFILE: a path, or `-` for standard input. */
  hostFile?: string;
  /** `-w` lists. */
  hosts?: string[];
  /** `-x` lists. */
  exclude?: string[];
  /** Groups file for `@name` (`--groups-file`). */
  groupsFile?: string;
  /** Most hosts a range, a group or the whole list may hold (`--max-hosts`). */
  maxHosts?: number;
  /** Results of an earlier run: only the hosts whose latest result there is an error (`--rerun-failed`). */
  rerunFailed?: string;
  /** With `rerunFailed`: only these error codes (`--codes`). */
  codes?: string[];
  stdin?: NodeJS.ReadableStream;
}

export interface Inventory {
  /** Normalised unique targets, in first-seen order: what the tasks carry. */
  targets: string[];
  /** Problems, each already formatted as `FILE:LINE: message: "text"` (escaped). */
  problems: string[];
  /** Targets merged because they were seen before. */
  duplicates: number;
  /** Targets removed by `-x`. */
  excluded: number;
  /** With `rerunFailed`: how many hosts failed in that file (before other filters). */
  failedBefore?: number;
}

/**
 * Composes the host list of a job: HOSTFILE and `-w` lists (ranges, `@group`s), minus `-x`,
 * limited to the failed hosts of `--rerun-failed` when given (or made of them when there is no
 * other list), duplicates merged.
 */
export async function readHostList(options: HostListOptions): Promise<Inventory> {
  const problems: string[] = [];
  let groups: Groups | undefined;
  if (options.groupsFile) {
    const parsed = parseGroups(await readText(options.groupsFile, "groups file"), options.groupsFile);
    groups = parsed.groups;
    problems.push(...parsed.problems.map(formatProblem));
  }
  const builder = new InventoryBuilder({
    ...(groups ? { groups } : {}),
    ...(options.maxHosts !== undefined ? { maxHosts: options.maxHosts } : {}),
  });
  if (options.hostFile !== undefined) {
    const name = options.hostFile === "-" ? "<stdin>" : options.hostFile;
    const text =
      options.hostFile === "-"
        ? await readAll(options.stdin ?? process.stdin)
        : await readText(options.hostFile, "host file");
    builder.addText(text, name);
  }
  for (const list of options.hosts ?? []) builder.addList(list, "-w");
  let failedBefore: number | undefined;
  if (options.rerunFailed !== undefined) {
    const { results, problems: bad } = latestResults(
      await readText(options.rerunFailed, "results file"),
      options.rerunFailed,
    );
    problems.push(...bad.map(formatProblem));
    const failed = failedTargets(results, options.codes);
    failedBefore = failed.length;
    const targets: Target[] = [];
    for (const t of failed) {
      try {
        targets.push(parseTarget(t));
      } catch {
        // a target the sink stored was valid when sent; skip one that no longer parses
      }
    }
    if (options.hostFile === undefined && !options.hosts?.length) {
      builder.addTargets(targets, options.rerunFailed);
    } else builder.restrictTo(targets);
  }
  for (const list of options.exclude ?? []) builder.exclude(list, "-x");
  const inv = builder.build();
  problems.push(...inv.errors.map(formatProblem));
  return {
    targets: inv.targets.map((t) => formatTarget(t.target)),
    problems,
    duplicates: inv.duplicates,
    excluded: inv.excluded,
    ...(failedBefore !== undefined ? { failedBefore } : {}),
  };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`uptime-sender: cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream)
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (err) {
    throw new UsageError(`uptime-sender: cannot read standard input: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString("utf8");
}
