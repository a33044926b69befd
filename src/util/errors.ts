/**
 * The project's one failure convention: a failure is a thrown, typed error. These are the
 * types. A probe fails with a ProbeError whose message a person can act on; anything else
 * reaching the probe service is a bug and is reported as one.
 */
export class ProbeError extends Error {
  override readonly name: string = 'ProbeError';
  /** Why, in the documented set (see probe/failure.ts), where the thrower knows it better than any classifier. */
  readonly kind: FailureKind | undefined;
  constructor(message: string, options?: { cause?: unknown; kind?: FailureKind }) {
    // No stack trace: a ProbeError is an outcome worded for people, never shown with its
    // stack, and capturing one cost ~2.5 µs, a tenth of a refused probe's own work. Bugs
    // (any other error) keep theirs.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
    this.kind = options?.kind;
  }
}

/** What a thrower may state outright; the rest is classified from the error's type and cause. */
export type FailureKind = 'host_key_mismatch' | 'auth_failed' | 'permission_denied' | 'command_failed' | 'stale_data' | 'connection_lost';

/** Bytes from a peer that do not follow the protocol (VICI, SSH output, a parser input). */
export class ProtocolError extends ProbeError {
  override readonly name: string = 'ProtocolError';
}

/** A peer sent more than the configured bound. */
export class SizeLimitError extends ProbeError {
  override readonly name: string = 'SizeLimitError';
}

/** Text that a parser cannot make sense of. Parsers throw only this. */
export class ParseError extends ProbeError {
  override readonly name: string = 'ParseError';
}

/** The probe's signal fired: its deadline passed or its HTTP client went away. */
export class AbortedError extends ProbeError {
  override readonly name: string = 'AbortedError';
}

/** The probe's budget ran out. Told apart by type, never by its wording. */
export class ProbeTimeoutError extends AbortedError {
  override readonly name: string = 'ProbeTimeoutError';
  /** A step may name itself in front ("waiting for the first CLI prompt: probe timed out"). */
  constructor(message = 'probe timed out', options?: { cause?: unknown; kind?: FailureKind }) {
    super(message, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A remote command that did not do its job: "permission_denied" when its own output says
 * so (sudo, cat, a unix socket answer in these words on every system we read), else
 * "command_failed".
 */
export function commandFailure(output: string): FailureKind {
  return /permission denied|not permitted|a password is required|not in the sudoers/i.test(output) ? 'permission_denied' : 'command_failed';
}
