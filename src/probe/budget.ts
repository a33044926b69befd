import { onAbort } from '../util/abort.js';
import { AbortedError, ProbeTimeoutError } from '../util/errors.js';

/**
 * The one cancellation of a probe: its deadline, or its HTTP client going away, whichever
 * comes first, aborts `signal` with a typed reason (ProbeTimeoutError or AbortedError).
 * The limits wait on it, the prober runs under it, and every socket and channel the probe
 * opens listens to it.
 */
export interface ProbeBudget {
  readonly signal: AbortSignal;
  /** performance.now() time at which the budget runs out. */
  readonly deadline: number;
}

/** Starts a budget of `timeoutMs`; call the returned dispose when the probe is over. */
export function startBudget(timeoutMs: number, clientSignal: AbortSignal): ProbeBudget & { dispose(): void } {
  const started = performance.now();
  const cancel = new AbortController();
  // Not AbortSignal.timeout(): held only by AbortSignal.any(), Node 20 may garbage-collect it
  // before it fires (nodejs/node#57736, fixed in Node 24) and the probe then outlives its
  // deadline, forever against a silent gateway. This timer holds the controller until it fires.
  const timer = setTimeout(() => cancel.abort(new ProbeTimeoutError()), timeoutMs);
  // The server aborts the request with its own wording ("aborted"); say what happened instead.
  const disposeClient = onAbort(clientSignal, () =>
    cancel.abort(new AbortedError(`the HTTP client went away after ${((performance.now() - started) / 1000).toFixed(1)}s; probe cancelled`)),
  );
  return {
    signal: cancel.signal,
    deadline: started + timeoutMs,
    dispose() {
      clearTimeout(timer);
      disposeClient();
    },
  };
}
