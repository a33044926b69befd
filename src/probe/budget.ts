import { AbortedError, ProbeTimeoutError } from '../util/errors.js';

/** Subscribes to "whoever asked went away"; returns the unsubscribe. */
export type OnClientGone = (listener: () => void) => () => void;

/** A listener for the end of a budget, told why it ended. */
export type BudgetListener = (reason: AbortedError) => void;

const NO_DISPOSE = (): void => {};

/**
 * The one cancellation of a probe: its deadline, or its HTTP client going away, whichever
 * comes first, ends the budget with a typed reason (ProbeTimeoutError or AbortedError).
 * The probe stops waiting then; the gateway fetch it may have started runs under a signal
 * of its own (see FetchSharing), since other probes may be waiting for that fetch.
 *
 * Not an AbortSignal: Node 20 takes ~5 µs to create one (an EventTarget whose prototype is
 * swapped afterwards), as much as the rest of the budget's work on a refused probe, and
 * nothing the budget feeds needs a real one.
 */
export class ProbeBudget {
  /** performance.now() time at which the budget runs out. */
  readonly deadline: number;
  private readonly started = performance.now();
  private endedWith: AbortedError | undefined;
  private readonly listeners: BudgetListener[] = [];
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly disposeClient: () => void;

  constructor(timeoutMs: number, onClientGone: OnClientGone) {
    this.deadline = this.started + timeoutMs;
    // Holds the budget until it fires or is disposed, so the deadline ends it whatever else holds it.
    this.timer = setTimeout(() => this.end(new ProbeTimeoutError()), timeoutMs);
    // The server aborts the request with its own wording ("aborted"); say what happened instead.
    this.disposeClient = onClientGone(() =>
      this.end(new AbortedError(`the HTTP client went away after ${((performance.now() - this.started) / 1000).toFixed(1)}s; probe cancelled`)),
    );
  }

  /** Calls `listener` once when the budget ends (at once if it has); returns the disposer. */
  onEnd(listener: BudgetListener): () => void {
    if (this.endedWith) {
      listener(this.endedWith);
      return NO_DISPOSE;
    }
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Call when the probe is over: the timer and the client subscription go. */
  dispose(): void {
    clearTimeout(this.timer);
    this.disposeClient();
  }

  private end(reason: AbortedError): void {
    if (this.endedWith) return;
    this.endedWith = reason;
    for (const listener of this.listeners.splice(0)) listener(reason);
  }
}

/** OnClientGone for a client whose going away is an AbortSignal. */
export function clientGoneBySignal(signal: AbortSignal): OnClientGone {
  return (listener) => {
    if (signal.aborted) {
      listener();
      return NO_DISPOSE;
    }
    signal.addEventListener('abort', listener, { once: true });
    return () => signal.removeEventListener('abort', listener);
  };
}
