import { parseArgs } from "node:util";

/** A wrong flag, a missing argument, a bad value: the CLI exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "USAGE";
}

export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  /** Environment variable that sets this flag when it is not on the command line. */
  env?: string;
  default?: string | boolean;
  /** Placeholder shown in --help, e.g. ENDPOINT. */
  value?: string;
  description: string;
  multiple?: boolean;
}

export interface CliSpec<F extends Record<string, FlagSpec>> {
  name: string;
  version: string;
  summary: string;
  usage: readonly string[];
  flags: F;
  /** Extra text after the flags in --help (examples, exit codes). */
  epilog?: string;
}

type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? boolean
  : S["multiple"] extends true
    ? string[]
    : S["default"] extends string
      ? string
      : string | undefined;

export type ParsedFlags<F extends Record<string, FlagSpec>> = { [K in keyof F]: FlagValue<F[K]> };

export type ParseOutcome<F extends Record<string, FlagSpec>> =
  | { kind: "run"; flags: ParsedFlags<F>; positionals: string[] }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

/** `--gen-key FILE`, handled by {@link cliMain} for apps that pass `genKey`. */
export const GEN_KEY_FLAG = {
  type: "string",
  value: "FILE",
  description:
    "write a new CURVE key pair to FILE (secret, mode 0600) and FILE.pub, print the public key, exit",
} as const satisfies FlagSpec;

const COMMON: Record<string, FlagSpec> = {
  help: { type: "boolean", short: "h", description: "show this help and exit" },
  version: { type: "boolean", short: "V", description: "print the version and exit" },
};

/**
 * Parses argv with node:util parseArgs, then fills unset flags from their environment
 * variables, then from defaults. Throws {@link UsageError} naming the flag for bad input.
 */
export function parseCli<F extends Record<string, FlagSpec>>(
  spec: CliSpec<F>,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ParseOutcome<F> {
  const all: Record<string, FlagSpec> = { ...spec.flags, ...COMMON };
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(all)) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinDashValues(argv, all), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${spec.name}: ${(err as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { kind: "help", text: formatHelp(spec) };
  if (values.version) return { kind: "version", text: `${spec.name} ${spec.version}` };
  const flags: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    let value = values[name];
    if (value === undefined && f.env && env[f.env] !== undefined && env[f.env] !== "") {
      const raw = env[f.env] as string;
      if (f.type === "boolean") {
        if (!/^(1|0|true|false|yes|no)$/i.test(raw)) {
          throw new UsageError(
            `${spec.name}: environment variable ${f.env}=${raw} is not a boolean (use 1/0, true/false)`,
          );
        }
        value = /^(1|true|yes)$/i.test(raw);
      } else {
        value = f.multiple ? raw.split(",").filter(Boolean) : raw;
      }
    }
    if (value === undefined)
      value = f.default ?? (f.type === "boolean" ? false : f.multiple ? [] : undefined);
    flags[name] = value;
  }
  return { kind: "run", flags: flags as ParsedFlags<F>, positionals: parsed.positionals };
}

/**
 * `--flag -value` as `--flag=-value` for string flags, when `-value` is not itself a flag:
 * a Z85 public key may start with "-", and parseArgs refuses such a value as ambiguous.
 */
function joinDashValues(argv: string[], flags: Record<string, FlagSpec>): string[] {
  const shorts = new Map<string, string>();
  for (const [name, f] of Object.entries(flags)) if (f.short) shorts.set(f.short, name);
  const isFlag = (t: string) =>
    t === "--" ||
    (t.startsWith("--") && t.slice(2).split("=")[0]! in flags) ||
    (/^-[^-]/.test(t) && t.length === 2 && shorts.has(t[1]!));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const name = t.startsWith("--")
      ? t.slice(2)
      : t.length === 2 && t[0] === "-"
        ? shorts.get(t[1]!)
        : undefined;
    const next = argv[i + 1];
    if (name && flags[name]?.type === "string" && next?.startsWith("-") && next.length > 2 && !isFlag(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(t);
  }
  return out;
}

/** A whole number in [min, max] from a flag or positional value, or a UsageError naming it. */
export function parseInteger(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Node fires a timer longer than this (2^31-1 ms) after 1 ms: no duration flag may exceed it. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

function formatMs(ms: number): string {
  if (ms >= 86_400_000) return `${ms}ms (${(ms / 86_400_000).toFixed(1)} days)`;
  return `${ms}ms`;
}

/**
 * A duration in milliseconds: `500`, `500ms`, `5s`, `2m`, `1h`, in [min, max] (default 1 ms to
 * {@link MAX_DURATION_MS}), or a UsageError naming the flag.
 */
export function parseDuration(
  name: string,
  raw: string,
  { min = 1, max = MAX_DURATION_MS }: { min?: number; max?: number } = {},
): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`${name} must be a duration like 500ms, 5s, 2m or 1h, got "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : m[2] === "s" ? 1000 : 1;
  const ms = Math.round(n * unit);
  if (ms < min || ms > max) {
    throw new UsageError(
      `${name} must be a duration from ${formatMs(min)} to ${formatMs(max)}, got "${raw}"`,
    );
  }
  return ms;
}

/** A non-empty text value of at most `maxLength` characters (what the library takes), or a UsageError naming it. */
export function parseText(name: string, raw: string, maxLength: number): string {
  if (raw === "" || raw.length > maxLength) {
    throw new UsageError(`${name} must be 1 to ${maxLength} characters, got ${raw.length}`);
  }
  return raw;
}

/** One of a closed set of words, or a UsageError listing them. */
export function parseChoice<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`${name} must be one of ${choices.join(", ")}, got "${raw}"`);
}

export function formatHelp(spec: CliSpec<Record<string, FlagSpec>>): string {
  const rows: [string, string][] = [];
  for (const [name, f] of Object.entries({ ...spec.flags, ...COMMON })) {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
    const extras = [
      f.default !== undefined && f.default !== false ? `default: ${f.default}` : "",
      f.env ? `env: ${f.env}` : "",
    ].filter(Boolean);
    rows.push([left, `${f.description}${extras.length ? ` (${extras.join("; ")})` : ""}`]);
  }
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = [
    `${spec.name} ${spec.version}: ${spec.summary}`,
    "",
    "Usage:",
    ...spec.usage.map((u) => `  ${u}`),
    "",
    "Options:",
    ...rows.map(([l, r]) =>
      l.length + 2 > width ? `  ${l}\n  ${" ".repeat(width)}${r}` : `  ${l.padEnd(width)}${r}`,
    ),
  ];
  if (spec.epilog) lines.push("", spec.epilog.trimEnd());
  return `${lines.join("\n")}\n`;
}

/**
 * Runs a library's check of a flag's value (one whose error names the flag, such as transport-zmq's
 * `parseTrustList(values, "--trust")`) and reports what it throws as a usage error of `app` (exit 2).
 *
 * @example
 * const trust = parseWith("uptime-sink", () => parseTrustList(flags.trust, "--trust"));
 */
export function parseWith<T>(app: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`${app}: ${(error as Error).message}`, { cause: error });
  }
}

/** A ZeroMQ endpoint: `tcp://host:port` (`*` for any address when binding), `ipc://path`. */
export function parseEndpoint(name: string, raw: string, { bind = false } = {}): string {
  const tcp = /^tcp:\/\/(\*|\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})$/.exec(raw);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65_535) throw new UsageError(`${name}: port ${port} in ${raw} is out of range`);
    if (tcp[1] === "*" && !bind)
      throw new UsageError(`${name}: ${raw} has '*' as host, which only a bind can use`);
    return raw;
  }
  if (/^ipc:\/\/.+$/.test(raw)) return raw;
  throw new UsageError(
    `${name} must be an endpoint like tcp://127.0.0.1:5557${bind ? " or tcp://*:5557" : ""} or ipc:///path, got "${raw}"`,
  );
}
