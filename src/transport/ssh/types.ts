import type { Duplex } from 'node:stream';
import type { ProbeLog } from '../../log/probe-log.js';

/** Secrets arrive here already resolved from file or environment references. */
export interface SshCredentials {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface HostKeyPolicy {
  /** OpenSSH known_hosts file (plain and hashed entries). */
  knownHostsFile?: string;
  /** Pinned keys as OpenSSH prints them: "SHA256:base64". */
  fingerprints?: string[];
  /** Accept any key; logged loudly on every connection. */
  insecureSkipVerify?: boolean;
}

export interface SshEndpoint {
  host: string;
  port: number;
  credentials: SshCredentials;
  hostKey: HostKeyPolicy;
  /** A bastion to tunnel through, like OpenSSH's ProxyJump. */
  jump?: SshEndpoint;
}

export interface ExecOptions {
  signal: AbortSignal;
  /** Bound on stdout and stderr together; past it the channel is closed and the call fails. */
  maxOutputBytes: number;
  log: ProbeLog;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  exitSignal?: string;
}

export interface ShellOptions {
  signal: AbortSignal;
  maxOutputBytes: number;
  log: ProbeLog;
  cols?: number;
  rows?: number;
}

/** An interactive shell channel with a pty (PAN-OS has no exec). */
export interface InteractiveShell {
  write(data: string): void;
  /**
   * Resolves with everything received since the previous read up to and including
   * the first match of `pattern`; rejects on abort, channel close, or more than
   * `maxOutputBytes` without a match.
   */
  readUntil(pattern: RegExp, signal: AbortSignal): Promise<string>;
  close(): void;
}

export interface StreamOptions {
  /** Covers the whole life of the stream: when it fires, the channel is closed. */
  signal: AbortSignal;
  log: ProbeLog;
}

export interface ExecStreamOptions extends StreamOptions {
  /** The command's stderr kept for error messages; the rest is dropped. */
  maxStderrBytes: number;
}

/** How a command behind a stream ended. */
export interface BridgeExit {
  exitCode: number | null;
  exitSignal?: string;
  /** At most maxStderrBytes of it. */
  stderr: string;
}

/** A channel as a byte stream; destroying the stream closes the channel and frees its session. */
export interface SshStream {
  readonly stream: Duplex;
  /** For execStream, once the channel has closed; undefined before and for stream-local channels. */
  exit(): BridgeExit | undefined;
}

export interface SshPoolStats {
  /** Authenticated connections held open (idle or busy). */
  connections: number;
  /** Channels open right now. */
  channels: number;
  /** Handshakes performed since start (a warm probe adds none). */
  handshakes: number;
}

export interface SshTransport {
  exec(endpoint: SshEndpoint, command: string, opts: ExecOptions): Promise<ExecResult>;
  openShell(endpoint: SshEndpoint, opts: ShellOptions): Promise<InteractiveShell>;
  /**
   * A stream to a unix socket on the server (OpenSSH's direct-streamlocal@openssh.com).
   * Servers answer a missing socket, a permission denied and forwarding switched off
   * alike, with a bare refusal (ChannelRefusedError carrying their words).
   */
  openStreamLocal(endpoint: SshEndpoint, socketPath: string, opts: StreamOptions): Promise<SshStream>;
  /** A command whose stdin and stdout are the stream (a bridge such as socat). */
  execStream(endpoint: SshEndpoint, command: string, opts: ExecStreamOptions): Promise<SshStream>;
  stats(): SshPoolStats;
  /** Closes every pooled connection (shutdown, tests). */
  close(): Promise<void>;
}
