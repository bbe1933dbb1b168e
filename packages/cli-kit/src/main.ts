import { appendFileSync } from "node:fs";
import { escapeText, hasUnsafeText } from "@uptime/protocol";
import type { LogFields, Logger as SharedLogger } from "@uptime/protocol/check";
import { type CliSpec, type FlagSpec, type ParsedFlags, parseCli } from "./args.js";

/**
 * Error codes that mean the operator's input is wrong (flags, arguments, key files), not that
 * the run failed: they exit {@link EXIT.usage}. Matched on the error's `code`, never its class,
 * so an error from any package counts however it was built: `USAGE` (cli-kit's UsageError) and
 * the key-file codes of @uptime/transport-zmq's `KeyFileError`.
 */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  "USAGE",
  "KEY_UNREADABLE",
  "KEY_PERMISSIONS",
  "KEY_INVALID",
  "KEY_EXISTS",
]);

/** The exit code for an error that reached the top: chosen by its `code` alone. */
export function exitCodeFor(err: unknown): number {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && USAGE_ERROR_CODES.has(code) ? EXIT.usage : EXIT.failed;
}

/** Exit codes shared by every app. */
export const EXIT = {
  ok: 0,
  /** Some hosts failed, where the command was asked to report that (`--fail-on-error`), or a runtime error. */
  failed: 1,
  /** Wrong flags or arguments, unreadable input files. */
  usage: 2,
  /** Stopped by a second signal. */
  interrupted: 130,
} as const;

export interface MainContext {
  /** Aborted on the first SIGINT/SIGTERM: drain and return. */
  signal: AbortSignal;
}

/**
 * The shared `Logger` shape of every uptime package (`@uptime/protocol/check`), with every
 * level present: `(message, fields?)`. What the apps log through and hand to the packages.
 */
export type Logger = Required<SharedLogger>;

export type { LogFields };

function formatFields(msg: string, fields?: LogFields): string {
  if (!fields || Object.keys(fields).length === 0) return msg;
  const pairs = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`,
  );
  return `${msg} (${pairs.join(", ")})`;
}

/**
 * A logger writing `name: message (key=value, ...)` lines to stderr; debug lines only when
 * verbose, info lines unless quiet. Lines are escaped (`escapeText`): text a host or a peer
 * controls never reaches the terminal raw.
 */
export function createLogger(name: string, options: { verbose?: boolean; quiet?: boolean } = {}): Logger {
  const write = (msg: string, fields?: LogFields) => {
    const line = formatFields(msg, fields);
    // Escaped only when it holds something a terminal must not get raw (a backslash alone does not
    // count), so a message a library already escaped is not escaped twice.
    const raw = hasUnsafeText(line.replaceAll("\\", ""));
    process.stderr.write(`${name}: ${raw ? escapeText(line) : line}\n`);
  };
  return {
    debug: (msg, fields) => {
      if (options.verbose) write(msg, fields);
    },
    info: (msg, fields) => {
      if (!options.quiet) write(msg, fields);
    },
    warn: (msg, fields) => write(`warning: ${msg}`, fields),
    error: (msg, fields) => write(`error: ${msg}`, fields),
  };
}

/**
 * The logger an app hands to the packages: the same shape, with the packages' info lines
 * shown only with --verbose (they are routine for the app).
 */
export function packageLogger(log: Logger): Logger {
  return { ...log, info: log.debug };
}

/**
 * The one top-level handler of an app: runs `fn`, maps errors to exit codes, and turns
 * the first SIGINT/SIGTERM into an abort (clean drain) and the second into an immediate exit.
 * The only place that calls `process.exit`.
 */
export async function runMain(name: string, fn: (ctx: MainContext) => Promise<number>): Promise<never> {
  const controller = new AbortController();
  const log = createLogger(name);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info(`${sig}: draining (send it again to exit at once)`);
      controller.abort(new Error(sig));
    } else {
      log.warn(`${sig} again: exiting now`);
      process.exit(EXIT.interrupted);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code: number;
  try {
    code = await fn({ signal: controller.signal });
  } catch (err) {
    code = exitCodeFor(err);
    if (code === EXIT.usage) {
      const message = err instanceof Error ? err.message : String(err);
      const prefixed = message.startsWith(`${name}:`) ? message : `${name}: ${message}`;
      process.stderr.write(`${prefixed}\nTry '${name} --help'.\n`);
    } else {
      log.error(err instanceof Error ? err.message : String(err));
      if (process.env.UPTIME_DEBUG && err instanceof Error && err.stack)
        process.stderr.write(`${err.stack}\n`);
      code = EXIT.failed;
    }
  }
  reportUsage(name);
  // Let stdout drain before exiting, so piped output is complete.
  await new Promise<void>((resolve) => {
    if (process.stdout.writableLength === 0) resolve();
    else process.stdout.once("drain", () => resolve());
  });
  process.exit(code);
}

/**
 * For benchmarks: with UPTIME_USAGE_FILE set, appends this process's CPU time and peak RSS
 * as one JSON line when it exits.
 */
function reportUsage(name: string): void {
  const file = process.env.UPTIME_USAGE_FILE;
  if (!file) return;
  const u = process.resourceUsage();
  const line = {
    app: name,
    pid: process.pid,
    userMs: u.userCPUTime / 1000,
    systemMs: u.systemCPUTime / 1000,
    maxRssKiB: u.maxRSS,
  };
  try {
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  } catch {
    // A benchmark aid only: never fail the app for it.
  }
}

export interface CliRun<Flags> {
  flags: Flags;
  positionals: string[];
}

/**
 * An app's `main`: parses argv against `spec` (printing --help/--version), handles
 * `--gen-key FILE` when `genKey` is given (writes a CURVE key pair, prints the public
 * key), and otherwise runs `run` under {@link runMain}.
 */
export function cliMain<F extends Record<string, FlagSpec>>(
  spec: CliSpec<F>,
  run: (args: CliRun<ParsedFlags<F>>, ctx: MainContext) => Promise<number>,
  options: { genKey?: (path: string) => Promise<{ publicKey: string }> } = {},
): (argv: string[]) => Promise<void> {
  return async (argv) => {
    await runMain(spec.name, async (ctx) => {
      const parsed = parseCli(spec, argv);
      if (parsed.kind !== "run") {
        process.stdout.write(`${parsed.text}\n`);
        return EXIT.ok;
      }
      const genKeyPath = (parsed.flags as Record<string, unknown>)["gen-key"];
      if (options.genKey && typeof genKeyPath === "string" && genKeyPath) {
        const pair = await options.genKey(genKeyPath);
        process.stdout.write(`${pair.publicKey}\n`);
        return EXIT.ok;
      }
      return run({ flags: parsed.flags, positionals: parsed.positionals }, ctx);
    });
  };
}
