// The flags of `uptime-worker`: names, env variables, defaults and help text (parsed by cli-kit).
import { GEN_KEY_FLAG, type ParsedFlags } from "@uptime/cli-kit";
import { VERSION } from "./version.js";

export const POLICIES = ["strict", "accept-new", "off"] as const;

export const spec = {
  name: "uptime-worker",
  version: VERSION,
  summary: "takes hosts from an uptime-sender, probes them over SSH and sends the results to an uptime-sink",
  usage: [
    "uptime-worker WORKER_ID [CONCURRENCY]",
    "uptime-worker -s tcp://127.0.0.1:5557 -r tcp://127.0.0.1:5558 -u USER -p 22 -i workerX -c 100",
  ],
  flags: {
    sender: {
      type: "string",
      short: "s",
      value: "ENDPOINT",
      env: "UPTIME_SENDER",
      default: "tcp://127.0.0.1:5557",
      description: "the sender's task endpoint",
    },
    sink: {
      type: "string",
      short: "r",
      value: "ENDPOINT",
      env: "UPTIME_SINK",
      default: "tcp://127.0.0.1:5558",
      description: "the sink's result endpoint",
    },
    user: {
      type: "string",
      short: "u",
      value: "USER",
      env: "UPTIME_SSH_USER",
      description: "SSH user for hosts without user@ (default: your login name)",
    },
    port: {
      type: "string",
      short: "p",
      value: "PORT",
      env: "UPTIME_SSH_PORT",
      default: "22",
      description: "SSH port for hosts without :port",
    },
    id: {
      type: "string",
      short: "i",
      value: "ID",
      env: "UPTIME_WORKER_ID",
      description: "worker id shown in the output (default: worker-PID)",
    },
    concurrency: {
      type: "string",
      short: "c",
      value: "N",
      env: "UPTIME_CONCURRENCY",
      default: "100",
      description: "probes in parallel",
    },
    identity: {
      type: "string",
      value: "FILE",
      env: "UPTIME_SSH_IDENTITY",
      multiple: true,
      description: "private key file, repeatable (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist)",
    },
    "passphrase-env": {
      type: "string",
      value: "VAR",
      env: "UPTIME_SSH_PASSPHRASE_ENV",
      description: "name of an environment variable holding the key passphrase",
    },
    agent: { type: "string", value: "SOCKET", env: "SSH_AUTH_SOCK", description: "ssh-agent socket" },
    "no-agent": { type: "boolean", env: "UPTIME_SSH_NO_AGENT", description: "do not use ssh-agent" },
    "known-hosts": {
      type: "string",
      value: "FILE",
      env: "UPTIME_SSH_KNOWN_HOSTS",
      description: "OpenSSH known_hosts, accept-new appends here (default: ~/.ssh/known_hosts{,2})",
    },
    "host-key-policy": {
      type: "string",
      value: "POLICY",
      env: "UPTIME_SSH_HOST_KEY_POLICY",
      default: "strict",
      description: "strict, accept-new or off",
    },
    "connect-timeout": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_SSH_CONNECT_TIMEOUT",
      default: "10s",
      description: "TCP connect timeout",
    },
    "command-timeout": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_SSH_COMMAND_TIMEOUT",
      default: "10s",
      description: "time the command may take",
    },
    deadline: {
      type: "string",
      value: "DURATION",
      env: "UPTIME_SSH_DEADLINE",
      default: "30s",
      description: "overall time per probe",
    },
    "ssh-config": {
      type: "string",
      short: "F",
      value: "FILE",
      env: "UPTIME_SSH_CONFIG",
      description: "ssh_config file to read, as ssh -F (default: ~/.ssh/config then /etc/ssh/ssh_config)",
    },
    "no-ssh-config": {
      type: "boolean",
      env: "UPTIME_NO_SSH_CONFIG",
      description: "read no ssh_config file",
    },
    jump: {
      type: "string",
      short: "J",
      value: "HOSTS",
      env: "UPTIME_SSH_JUMP",
      description:
        "bastions for every host, as ssh -J: [user@]host[:port][,...] (wins over ssh_config's ProxyJump)",
    },
    retries: {
      type: "string",
      value: "N",
      env: "UPTIME_SSH_RETRIES",
      default: "0",
      description:
        "extra attempts after a connect timeout, unreachable host or lost connection (before the command starts)",
    },
    "handshake-retries": {
      type: "string",
      value: "N",
      env: "UPTIME_SSH_HANDSHAKE_RETRIES",
      default: "8",
      description:
        "extra attempts when sshd drops the connection before its banner (MaxStartups), with backoff",
    },
    "per-host-concurrency": {
      type: "string",
      value: "N",
      env: "UPTIME_SSH_PER_HOST_CONCURRENCY",
      default: "8",
      description: "SSH handshakes at once per resolved address (lowered by itself when sshd drops them)",
    },
    "keep-connections": {
      type: "string",
      value: "N",
      env: "UPTIME_KEEP_CONNECTIONS",
      default: "0",
      description:
        "keep up to N idle SSH connections for the next job's probes of the same hosts (frequent polling); 0 = close after each probe",
    },
    "keep-idle": {
      type: "string",
      value: "DURATION",
      env: "UPTIME_KEEP_IDLE",
      default: "60s",
      description: "how long a kept connection may stay idle",
    },
    command: {
      type: "string",
      value: "CMD",
      env: "UPTIME_COMMAND",
      description: "command to run when the job does not say (default: uptime)",
    },
    "curve-secret": {
      type: "string",
      value: "FILE",
      env: "UPTIME_WORKER_CURVE_SECRET",
      description: "CURVE key pair of this worker; enables CURVE",
    },
    "sender-key": {
      type: "string",
      value: "KEY|FILE",
      env: "UPTIME_SENDER_KEY",
      description: "the sender's CURVE public key (Z85) or a .pub file",
    },
    "sink-key": {
      type: "string",
      value: "KEY|FILE",
      env: "UPTIME_SINK_KEY",
      description: "the sink's CURVE public key (Z85) or a .pub file",
    },
    "gen-key": GEN_KEY_FLAG,
    verbose: {
      type: "boolean",
      short: "v",
      env: "UPTIME_VERBOSE",
      description: "print 'Recieved Host: X' for every task, as the original did",
    },
  },
  epilog:
    "Serves job after job until SIGINT/SIGTERM (drains in-flight probes; a second signal exits at once).\n\nExit codes: 0 ok, 1 runtime error, 2 usage error (bad flag, unreadable key file).",
} as const;

export type Flags = ParsedFlags<typeof spec.flags>;
