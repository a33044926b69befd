import { AbortedError, ParseError, ProbeError, ProbeTimeoutError, ProtocolError, SizeLimitError } from '../util/errors.js';

/**
 * Why a probe failed, from a small documented set (README, "Why a probe failed"): a bounded
 * label for alerts to route on. The human reason stays in the log, /history and the page.
 */
export const FAILURE_REASONS = [
  'timeout',
  'cancelled',
  'connection_refused',
  'dns',
  'unreachable',
  'connection_lost',
  'host_key_mismatch',
  'auth_failed',
  'permission_denied',
  'protocol_error',
  'unparseable_output',
  'output_too_large',
  'command_failed',
  'stale_data',
  'internal_error',
  'other',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Node's socket and resolver error codes, as the reason they mean for a probe. */
const ERRNO: Readonly<Record<string, FailureReason>> = {
  ECONNREFUSED: 'connection_refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
  EAI_FAIL: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ECONNRESET: 'connection_lost',
  EPIPE: 'connection_lost',
  ETIMEDOUT: 'timeout',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
};

/** ssh2 marks its errors with a level; these two say what went wrong by themselves. */
const SSH2_LEVEL: Readonly<Record<string, FailureReason>> = {
  'client-authentication': 'auth_failed',
  'client-timeout': 'timeout',
};

/**
 * The reason for an error that failed a probe: what its thrower stated, else its type, else
 * what its causes say (an errno, an ssh2 level), nearest first. Anything that is not a
 * ProbeError is a bug: internal_error.
 */
export function classifyFailure(err: unknown): FailureReason {
  if (!(err instanceof ProbeError)) return 'internal_error';
  let cause: unknown = err;
  for (let depth = 0; depth < 8 && cause instanceof Error; depth++, cause = cause.cause) {
    const found = ownReason(cause);
    if (found) return found;
  }
  return 'other';
}

function ownReason(e: Error): FailureReason | undefined {
  if (e instanceof ProbeError && e.kind) return e.kind;
  if (e instanceof ProbeTimeoutError) return 'timeout';
  if (e instanceof AbortedError) return 'cancelled';
  if (e instanceof ParseError) return 'unparseable_output';
  if (e instanceof SizeLimitError) return 'output_too_large';
  if (e instanceof ProtocolError) return 'protocol_error';
  const { code, level } = e as Error & { code?: unknown; level?: unknown };
  if (typeof code === 'string' && ERRNO[code]) return ERRNO[code];
  if (typeof level === 'string' && SSH2_LEVEL[level]) return SSH2_LEVEL[level];
  return undefined;
}
