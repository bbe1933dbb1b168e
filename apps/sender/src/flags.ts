// The flags of `uptime-sender`: names, env variables, defaults and help text (parsed by cli-kit).
import { GEN_KEY_FLAG, type ParsedFlags } from "@uptime/cli-kit";
import { VERSION } from "./version.js";

export const PROGRESS = ["auto", "bar", "plain", "off"] as const;

export const spec = {
  name: "uptime-sender",
  version: VERSION,
  summary: "reads a host list and hands the hosts to uptime workers, until every host has a result",
  usage: [
    "uptime-sender HOSTFILE [WATERMARK]",
    "uptime-sender - < hosts.txt",
    "uptime-sender -w 'web[01-12].dc1,@db' -x web07.dc1",
    "uptime-sender --rerun-failed results.ndjson --codes AUTH,CONNECT_TIMEOUT",
    "uptime-sender hosts.txt --resume",
    "uptime-sender hosts.txt --bind tcp://*:5557 --job nightly",
  ],
  flags: {
    hosts: {
      type: "string",
      short: "w",
      value: "HOSTS",
      multiple: true,
      description:
        "hosts as pdsh -w: a comma list with ranges and @groups (repeatable; with or instead of HOSTFILE)",
    },
    exclude: {
      type: "string",
      short: "x",
      value: "HOSTS",
      multiple: true,
      description:
        "leave these hosts out, as pdsh -x (ranges and @groups; without user/port: any user and port)",
    },
    "groups-file": {
      type: "string",
      value: "FILE",
      env: "UPTIME_GROUPS_FILE",
      description: "groups for @name, ClusterShell's simple format: one 'name: hosts...' per line",
    },
    "max-hosts": {
      type: "string",
      value: "N",
      env: "UPTIME_MAX_HOSTS",
      default: "1000000",
      description: "most hosts a range, a group or the whole host list may expand to",
    },
    "rerun-failed": {
      type: "string",
      value: "RESULTS",
      description:
        "only the hosts whose latest result in RESULTS (the sink's NDJSON, CSV or text output) is an error; with HOSTFILE or -w, only those of them",
    },
    codes: {
      type: "string",
      value: "CODES",
      description: "with --rerun-failed: only these error codes, comma-separated (AUTH,CONNECT_TIMEOUT)",
    },
    resume: {
      type: "boolean",
      description:
        "continue the unfinished job of this same host list and command (after a crash or Ctrl-C): same job id, only hosts without a stored result are sent",
    },
    state: {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_STATE",
      description:
        "the job's state file (receipted hosts, for --resume); 'off' for none (default: one per job in $XDG_STATE_HOME/uptime-sender, found by the digest of the host list and command)",
    },
    bind: {
      type: "string",
      short: "b",
      value: "ENDPOINT",
      env: "UPTIME_SENDER_BIND",
      default: "tcp://*:5557",
      description: "where workers connect for tasks",
    },
    job: {
      type: "string",
      short: "j",
      value: "ID",
      env: "UPTIME_JOB",
      description: "job id (default: a new random id)",
    },
    command: {
      type: "string",
      value: "CMD",
      env: "UPTIME_COMMAND",
      description: "command for workers to run instead of uptime",
    },
    watermark: {
      type: "string",
      value: "N",
      env: "UPTIME_WATERMARK",
      description:
        "most tasks out at once over all workers (the original's watermark; default: no limit but the workers' credit)",
    },
    "max-attempts": {
      type: "string",
      value: "N",
      env: "UPTIME_MAX_ATTEMPTS",
      default: "3",
      description: "tries per host when workers die holding it",
    },
    "heartbeat-interval": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_HEARTBEAT_INTERVAL",
      default: "1s",
      description: "heartbeat period",
    },
    "heartbeat-timeout": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_HEARTBEAT_TIMEOUT",
      default: "5s",
      description: "silence after which a worker counts as dead and its hosts go to others",
    },
    progress: {
      type: "string",
      value: "MODE",
      env: "UPTIME_PROGRESS",
      default: "auto",
      description: "auto (bar on a terminal, plain lines otherwise), bar, plain or off",
    },
    "fail-on-error": {
      type: "boolean",
      env: "UPTIME_FAIL_ON_ERROR",
      description: "exit 1 when any host's result is an error",
    },
    "curve-secret": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_CURVE_SECRET",
      description: "CURVE key pair of this sender; enables CURVE",
    },
    "curve-allow": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SENDER_CURVE_ALLOW",
      description: "allow-list of worker public keys (required with --curve-secret)",
    },
    trust: {
      type: "string",
      value: "CIDR[,CIDR...]",
      env: "UPTIME_SENDER_TRUST",
      multiple: true,
      description:
        "networks workers may connect from (IPv4/IPv6 CIDR); default without CURVE: loopback only (127.0.0.0/8, ::1)",
    },
    "gen-key": GEN_KEY_FLAG,
    quiet: { type: "boolean", short: "q", env: "UPTIME_QUIET", description: "no progress and no summary" },
  },
  epilog: `HOSTFILE lines: host, user@host, host:port, user@[v6addr]:port, ranges (web[01-12].dc1,
node[1-3,7]) and @groups, or several of these separated by commas; blank lines and # comments are skipped; a
bad line is reported with its line number and the rest are still sent; a host seen twice is probed once.
"-" reads standard input. -w is the host list since 0.2 (it was the watermark: use --watermark N).

Exit codes: 0 every host has a result; 1 some hosts have none (abandoned after --max-attempts, or
cancelled), or with --fail-on-error some results are errors; 2 usage error, unreadable HOSTFILE or key file.`,
} as const;

export type Flags = ParsedFlags<typeof spec.flags>;
