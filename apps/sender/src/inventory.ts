import { readFile } from "node:fs/promises";
import { UsageError } from "@uptime/cli-kit";
import { formatTarget, parseInventory } from "@uptime/ssh-probe";

export interface Inventory {
  /** Normalised targets, in file order: what the tasks carry. */
  targets: string[];
  /** Bad lines, each already formatted as `FILE:LINE: message`. */
  problems: string[];
}

/** Reads a host list from a file, or standard input for `-`. Unreadable files are usage errors. */
export async function readInventory(
  path: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<Inventory> {
  let text: string;
  try {
    text = path === "-" ? await readAll(stdin) : await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`uptime-sender: cannot read host file ${path}: ${(err as Error).message}`);
  }
  const name = path === "-" ? "<stdin>" : path;
  const parsed = parseInventory(text);
  return {
    targets: parsed.targets.map((t) => formatTarget(t.target)),
    problems: parsed.errors.map((e) => `${name}:${e.line}: ${e.message}: ${JSON.stringify(e.text)}`),
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
