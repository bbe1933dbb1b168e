import { connect as netConnect, Socket } from "node:net";
import type { Duplex } from "node:stream";
// ssh2 is CommonJS: Node gives ESM importers its exports only as the default export.
import ssh2, { type AnyAuthMethod, type AuthenticationType, type Client, type ParsedKey } from "ssh2";
import { type AgentPool, isAgentError } from "./agent.js";
import { classifyError, PreBannerError, ProbeError, type Stage } from "./errors.js";
import { useFastVerify } from "./fast-crypto.js";
import { type AgentKeySelection, selectingAgent } from "./identity-selection.js";
import type { Identity } from "./keys.js";
import type { HostKeyVerdict } from "./known-hosts.js";

/** An authenticated SSH connection owned by one probe at a time (or idle in the pool). */
export interface Connection {
  readonly key: string;
  readonly client: Client;
  /** The TCP socket, or the stream standing in for it (a ProxyCommand's stdio, a jump host's channel). */
  readonly sock: Duplex;
  closed: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  onClosed: (() => void) | undefined;
}

export interface ConnectParams {
  poolKey: string;
  /** Name for messages and errors. */
  host: string;
  /** Address to connect to (the resolved `host`); `host` when absent. */
  address?: string | undefined;
  port: number;
  username: string;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** The probe's shared ssh-agent client; undefined for no agent. */
  agent: AgentPool | undefined;
  identities: readonly Identity[];
  identityProblems: readonly string[];
  /**
   * Which agent keys to offer, in which order (OpenSSH's: those of configured identity files first, the others
   * only without IdentitiesOnly); identity files already offered through the agent are skipped. Undefined: all
   * agent keys in the agent's order, then every identity file.
   */
  agentKeys?: AgentKeySelection | undefined;
  /**
   * Opens the stream to speak SSH over instead of a TCP connection to `address`:`port` (ProxyCommand, ProxyJump);
   * it counts as connected at once.
   */
  openStream?: (() => Duplex) | undefined;
  /** Host-key algorithms to offer, in order; undefined for ssh2's default. */
  hostKeyAlgorithms?: string[] | undefined;
  /** Undefined when host keys are not checked. */
  verifyHostKey: ((key: Buffer) => HostKeyVerdict) | undefined;
}

function noop(): void {}

const CLOSED_BY_REMOTE = Symbol("closed by remote");

/**
 * A close or reset by the peer (a socket error, or ssh2's "connection lost before handshake"), as opposed to our
 * own timeout or abort, which are ProbeErrors.
 */
function isDrop(reason: unknown): boolean {
  if (reason instanceof ProbeError) return reason.cause === CLOSED_BY_REMOTE;
  // ssh2's parse errors (bytes that are not SSH: "Invalid header") carry neither an errno `code` nor a `level`:
  // the server answered with garbage, which no retry will change.
  const r = reason as { code?: unknown; level?: unknown } | null;
  return typeof r?.code === "string" || typeof r?.level === "string";
}

/**
 * Opens TCP (our own socket, so we own the connect timeout and errno mapping), then the SSH handshake and
 * public-key auth. Settles exactly once; on failure or abort everything it opened is destroyed.
 */
export function openConnection(params: ConnectParams, signal: AbortSignal): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let settled = false;
    let stage: Stage = "connect";
    let hostKeyVerdict: HostKeyVerdict;
    const authNotes: string[] = [];
    // The agent could not be asked (unreachable, dropped, refused to sign): if nothing else authenticates, the
    // probe fails with AGENT, not AUTH, since the host never saw our agent's keys.
    let agentFailure: string | undefined;
    let sock: Duplex;
    try {
      sock = params.openStream
        ? params.openStream()
        : netConnect({ host: params.address ?? params.host, port: params.port });
    } catch (err) {
      return reject(classifyError(err, "connect", params.host));
    }
    // ssh2 sets _remoteVer when it has parsed the server's identification string; sshd over MaxStartups may
    // write a line of text but never that before closing. (A listener of our own on the socket would start it
    // flowing before ssh2 reads from it.)
    const bannerSeen = () => (client as unknown as { _remoteVer?: string })._remoteVer !== undefined;
    const client = new ssh2.Client();
    // ssh2 can emit errors after we are done (e.g. a readyTimeout's second error); never let one crash us.
    sock.on("error", noop);
    client.on("error", noop);

    let timer = setTimeout(
      () => fail(new ProbeError("CONNECT_TIMEOUT", `no TCP connection within ${params.connectTimeoutMs} ms`)),
      params.connectTimeoutMs,
    );

    const onAbort = () => fail(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });

    function cleanup(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      sock.removeListener("connect", onConnect);
      sock.removeListener("error", onError);
      client.removeListener("error", onClientError);
      client.removeListener("close", onClose);
      client.removeListener("ready", onReady);
      client.removeListener("handshake", onHandshake);
    }

    function fail(reason: unknown): void {
      if (settled) return;
      settled = true;
      cleanup();
      client.destroy();
      sock.destroy();
      const error = classifyError(reason, stage, params.host);
      if (stage === "handshake" && !bannerSeen() && isDrop(reason)) {
        reject(
          new PreBannerError("HANDSHAKE", `${error.message} (before the SSH banner: sshd MaxStartups?)`, {
            cause: reason,
          }),
        );
        return;
      }
      reject(error);
    }

    function onError(err: Error): void {
      fail(err);
    }

    function onClientError(err: Error & { level?: string }): void {
      // Agent and signing errors are reported while ssh2 goes on with the next method: keep them for the message.
      if (err.level === "agent" || (err.level === "client-authentication" && stage === "auth")) {
        authNotes.push(err.message);
        if (err.level === "agent" || isAgentError(err)) agentFailure ??= err.message;
        return;
      }
      fail(hostKeyVerdict ?? err);
    }

    function onClose(): void {
      if (hostKeyVerdict) {
        fail(hostKeyVerdict);
        return;
      }
      fail(
        new ProbeError(
          stage === "auth" ? "AUTH" : "HANDSHAKE",
          `connection closed by remote during ${stage}`,
          {
            cause: CLOSED_BY_REMOTE,
          },
        ),
      );
    }

    function onHandshake(): void {
      stage = "auth";
    }

    function onReady(): void {
      if (settled) return;
      settled = true;
      cleanup();
      resolve({
        key: params.poolKey,
        client,
        sock,
        closed: false,
        idleTimer: undefined,
        onClosed: undefined,
      });
    }

    const methods: AnyAuthMethod[] = [];
    const agent = params.agent?.forConnection(signal);
    if (agent) {
      methods.push({
        type: "agent",
        username: params.username,
        agent: params.agentKeys ? selectingAgent(agent, params.agentKeys) : agent,
      });
    }
    for (const identity of params.identities) {
      methods.push({ type: "publickey", username: params.username, key: identity.key });
    }
    let next = 0;
    const authHandler = (
      authsLeft: AuthenticationType[] | null,
      _partial: boolean | null,
      callback: (auth: AnyAuthMethod | false) => void,
    ): void => {
      if (authsLeft && !authsLeft.includes("publickey")) {
        fail(new ProbeError("AUTH", `server offers no public-key auth (it allows: ${authsLeft.join(", ")})`));
        callback(false);
        return;
      }
      let method = methods[next++];
      while (method?.type === "publickey" && params.agentKeys?.offered(method.key as ParsedKey)) {
        method = methods[next++];
      }
      if (method) {
        callback(method);
        return;
      }
      if (methods.length === 0) {
        const why =
          params.identityProblems.length > 0 ? params.identityProblems.join("; ") : "none configured";
        fail(new ProbeError("KEY", `no usable agent or identity file (${why})`));
      } else {
        const tried = [
          ...(params.agent ? [`agent ${params.agent.socketPath}`] : []),
          ...params.identities.map((i) => i.path),
        ].join(", ");
        const notes = authNotes.length > 0 ? `; ${authNotes.join("; ")}` : "";
        // An agent that lists no keys (all removed with ssh-add -d, or locked with ssh-add -x: a locked agent
        // lists none) offered the host nothing: the agent is what needs fixing, not the host.
        if (agentFailure === undefined && agent?.listed === 0) {
          agentFailure = "it holds no keys (ssh-add -l; a locked agent lists none: ssh-add -X)";
        }
        if (agentFailure !== undefined) {
          fail(
            new ProbeError(
              "AGENT",
              `ssh-agent at ${params.agent?.socketPath} could not be used for ${params.username}@${params.host}: ${agentFailure}` +
                (params.identities.length > 0
                  ? ` (identity files ${params.identities.map((i) => i.path).join(", ")} refused)`
                  : ""),
            ),
          );
          callback(false);
          return;
        }
        fail(
          new ProbeError(
            "AUTH",
            `permission denied for ${params.username}@${params.host} (tried ${tried})${notes}`,
          ),
        );
      }
      callback(false);
    };

    function onConnect(): void {
      if (settled) return;
      clearTimeout(timer);
      stage = "handshake";
      if (sock instanceof Socket) sock.setNoDelay(true);
      timer = setTimeout(
        () =>
          fail(
            new ProbeError(
              "HANDSHAKE",
              `${stage === "auth" ? "authentication" : "SSH banner/key exchange"} not done within ${params.handshakeTimeoutMs} ms`,
            ),
          ),
        params.handshakeTimeoutMs,
      );
      const verify = params.verifyHostKey;
      client.connect({
        sock,
        username: params.username,
        readyTimeout: 0,
        authHandler: authHandler as never,
        ...(params.hostKeyAlgorithms
          ? { algorithms: { serverHostKey: params.hostKeyAlgorithms as never } }
          : {}),
        ...(verify
          ? {
              hostVerifier: (key: Buffer) => {
                hostKeyVerdict = verify(key);
                return hostKeyVerdict === undefined;
              },
            }
          : {}),
      });
      useFastVerify(client, sock);
    }

    if (params.openStream) setImmediate(onConnect);
    else sock.once("connect", onConnect);
    sock.on("error", onError);
    client.on("error", onClientError);
    client.on("close", onClose);
    client.once("ready", onReady);
    client.once("handshake", onHandshake);
  });
}
