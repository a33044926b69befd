/**
 * A failure with a reason a person can act on. Probes fail with one of these;
 * anything else reaching the engine is a bug and is logged as such.
 */
export class ProbeError extends Error {
  override readonly name: string = 'ProbeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

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

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
