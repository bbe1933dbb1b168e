import { appendFileSync } from "node:fs";
import { type CliSpec, type FlagSpec, type ParsedFlags, parseCli, UsageError } from "./args.js";

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

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A logger writing `name: message` lines to stderr; debug lines only when verbose. */
export function createLogger(name: string, options: { verbose?: boolean; quiet?: boolean } = {}): Logger {
  const write = (msg: string) => process.stderr.write(`${name}: ${msg}\n`);
  return {
    debug: (msg) => {
      if (options.verbose) write(msg);
    },
    info: (msg) => {
      if (!options.quiet) write(msg);
    },
    warn: (msg) => write(`warning: ${msg}`),
    error: (msg) => write(`error: ${msg}`),
  };
}

/** Fields of a library's structured log call, appended as `key=value`. */
export type LogFields = Record<string, unknown>;

/**
 * Adapts a CLI logger to the structured `(msg, fields)` logger the packages take. The
 * packages' info lines are shown only with --verbose: they are routine for the app.
 */
export function packageLogger(log: Logger) {
  const fmt = (msg: string, fields?: LogFields) =>
    fields && Object.keys(fields).length > 0
      ? `${msg} (${Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(", ")})`
      : msg;
  return {
    debug: (msg: string, fields?: LogFields) => log.debug(fmt(msg, fields)),
    info: (msg: string, fields?: LogFields) => log.debug(fmt(msg, fields)),
    warn: (msg: string, fields?: LogFields) => log.warn(fmt(msg, fields)),
    error: (msg: string, fields?: LogFields) => log.error(fmt(msg, fields)),
  };
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
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\nTry '${name} --help'.\n`);
      code = EXIT.usage;
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
