import { abortReason } from '../util/abort.js';
import { ProbeTimeoutError } from '../util/errors.js';
import type { Target } from './prober.js';
import { ProbeRefusal } from './refusal.js';

/**
 * How many probes run at once: a global cap protects the exporter (sockets, memory,
 * event loop), a per-target cap protects each gateway from a storm of SSH sessions
 * or VICI connections when Prometheus, people and scripts ask at the same moment.
 */
export interface ProbeLimitsOptions {
  /** Probes running at once across all targets (`--probe.max-concurrency`). */
  maxConcurrency: number;
  /** Probes running at once against one target (`--probe.max-per-target`). */
  maxPerTarget: number;
}

export const DEFAULT_PROBE_LIMITS: ProbeLimitsOptions = { maxConcurrency: 200, maxPerTarget: 2 };

/** How long a wait for a slot may last: until the signal fires, and never past the deadline (a performance.now() time). */
export interface WaitBound {
  signal: AbortSignal;
  deadline: number;
}

/** Held while the probe runs; release it exactly once when the probe is over. */
export interface ProbeSlot {
  /** Time spent queued before the slot was granted. */
  waitedMs: number;
  release(): void;
}

export interface ProbeLimitsStats {
  /** Probes holding a global slot. */
  running: number;
  /** Probes waiting for a slot, per-target or global (abandoned waits excluded). */
  queued: number;
  /** Targets with a probe running or waiting. */
  targets: number;
}

/** Weight of the newest probe duration in a target's running average. */
const EWMA_ALPHA = 0.3;
/** Targets whose typical probe duration is remembered (oldest forgotten first). */
const MAX_REMEMBERED_TARGETS = 10_000;

/**
 * One cap with its first-come-first-served queue. A waiter that gives up is marked
 * abandoned: it leaves our counts at once, and when the queue reaches it, it passes
 * its turn on without holding the slot. A free slot with nobody queued is taken at
 * once, without a queue entry: the common case, on every probe.
 */
class Gate {
  /** Turns waiting for a slot, oldest first, from `head` on. */
  private readonly queue: (() => void)[] = [];
  private head = 0;
  /** Slots taken: by holders, and briefly by abandoned turns passing theirs on. */
  private active = 0;
  /** Entries not yet finished: waiting, abandoned but still queued, or holding. */
  entries = 0;
  /** Waiters that still want a slot. */
  waiting = 0;
  /** Start time (performance.now) of each slot holder, by its token. */
  readonly holders = new Map<number, number>();
  private nextToken = 0;

  constructor(
    readonly cap: number,
    /** Typical time a slot is held, if known. */
    readonly typicalMs: () => number | undefined,
    readonly onIdle: () => void,
  ) {}

  /** Runs `turn` when a slot is free, in arrival order; the turn ends with endTurn(). */
  private enqueue(turn: () => void): void {
    if (this.active < this.cap && this.head === this.queue.length) {
      this.active++;
      turn();
      return;
    }
    this.queue.push(turn);
  }

  private endTurn(): void {
    this.active--;
    while (this.active < this.cap && this.head < this.queue.length) {
      const next = this.queue[this.head] as () => void;
      this.queue[this.head++] = undefined as unknown as () => void;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.active++;
      next();
    }
  }

  /**
   * When a slot would free up for a newcomer, assuming every probe takes the
   * typical time: the running ones end at start + typical (or now if they are
   * over it), and each slot then serves one queued probe per typical duration.
   * Undefined when nothing is known about this target's probes yet.
   */
  predictedWaitMs(now: number): number | undefined {
    if (this.holders.size + this.waiting < this.cap) return 0;
    const typical = this.typicalMs();
    if (typical === undefined) return undefined;
    const frees = [...this.holders.values()].map((start) => Math.max(now, start + typical));
    while (frees.length < this.cap) frees.push(now);
    frees.sort((a, b) => a - b);
    const ahead = this.waiting;
    return (frees[ahead % this.cap] as number) + Math.floor(ahead / this.cap) * typical - now;
  }

  /**
   * A slot at once if one is free and nobody queues for one, else undefined. The common
   * case on every probe, so it costs no promise and no abort listener.
   */
  tryAcquire(signal: AbortSignal): ProbeSlot | undefined {
    if (this.active >= this.cap || this.head !== this.queue.length || signal.aborted) return undefined;
    this.entries++;
    this.active++;
    return this.grant(0);
  }

  /** Records a holder whose slot is already counted in `active`; its release passes the slot on. */
  private grant(waitedMs: number): ProbeSlot {
    const token = this.nextToken++;
    this.holders.set(token, performance.now());
    let held = true;
    return {
      waitedMs,
      release: () => {
        if (!held) return;
        held = false;
        this.holders.delete(token);
        this.finish();
      },
    };
  }

  /**
   * A slot, or a 503 ProbeRefusal saying why there is none. The budget's deadline bounds
   * the wait. A probe that, by this target's typical duration, could not finish before
   * its deadline is refused instead of queued (or, when its turn comes, instead of
   * run): it would only time out, after adding one more connection to a busy gateway.
   * `refuse` words the reason.
   */
  acquire({ signal, deadline }: WaitBound, refuse: (why: string) => string): Promise<ProbeSlot> {
    const throttled = (why: string) => new ProbeRefusal(503, refuse(why));
    const queuedAt = performance.now();
    const mustWait = this.holders.size + this.waiting >= this.cap;
    const predicted = this.predictedWaitMs(queuedAt);
    const typical = this.typicalMs();
    if (mustWait && predicted !== undefined && typical !== undefined && queuedAt + predicted + typical > deadline) {
      this.idleIfUnused();
      return Promise.reject(
        throttled(
          `the next free slot is expected in ${fmtSeconds(predicted)} and its probes take ${fmtSeconds(typical)}, ` +
            `more than this probe's ${fmtSeconds(deadline - queuedAt)} budget`,
        ),
      );
    }
    if (signal.aborted) {
      this.idleIfUnused();
      return Promise.reject(throttled(whyGaveUp(signal, 0)));
    }
    return new Promise((resolve, reject) => {
      let state: 'waiting' | 'granted' | 'abandoned' = 'waiting';
      this.entries++;
      this.waiting++;
      const giveUp = (reason: string) => {
        state = 'abandoned';
        this.waiting--;
        reject(throttled(reason));
      };
      const onAbort = () => {
        if (state === 'waiting') giveUp(whyGaveUp(signal, performance.now() - queuedAt));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.enqueue(() => {
        signal.removeEventListener('abort', onAbort);
        const started = performance.now();
        const usual = this.typicalMs();
        if (state === 'waiting' && mustWait && usual !== undefined && started + usual > deadline) {
          giveUp(
            `a slot freed up after ${fmtSeconds(started - queuedAt)} with ${fmtSeconds(deadline - started)} of the budget left, ` +
              `less than this target's probes take (${fmtSeconds(usual)})`,
          );
        }
        if (state === 'abandoned') {
          // Passed on after this turn, as a slot release would be: never from inside endTurn's loop.
          queueMicrotask(() => this.finish());
          return;
        }
        state = 'granted';
        this.waiting--;
        resolve(this.grant(started - queuedAt));
      });
    });
  }

  /** A refusal before queuing leaves a gate made for it unused: it goes now, not at a later probe's end. */
  private idleIfUnused(): void {
    if (this.entries === 0) this.onIdle();
  }

  private finish(): void {
    this.entries--;
    this.endTurn();
    if (this.entries === 0) this.onIdle();
  }
}

function whyGaveUp(signal: AbortSignal, waitedMs: number): string {
  const reason = abortReason(signal);
  return reason instanceof ProbeTimeoutError
    ? `no slot freed up within the probe's budget (waited ${fmtSeconds(waitedMs)})`
    : `gave up after waiting ${fmtSeconds(waitedMs)}: ${reason.message}`;
}

function fmtSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(ms < 10_000 ? 2 : 0)}s`;
}

/** One key per gateway address: `host:port`, host names compared case-insensitively. */
export function targetKey(target: Target): string {
  const host = target.host.toLowerCase().replace(/\.$/, '');
  return host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
}

/**
 * The caps on running probes. A probe first takes one of its target's slots, then
 * one of the global ones, so probes queued behind a stuck gateway never hold global
 * slots that other gateways' probes could use.
 */
export class ProbeLimits {
  private readonly global: Gate;
  private readonly perTarget = new Map<string, Gate>();
  /** Running average of how long a probe holds its slot, per target and overall. */
  private readonly typical = new Map<string, number>();
  private globalTypical: number | undefined;

  constructor(readonly options: ProbeLimitsOptions = DEFAULT_PROBE_LIMITS) {
    for (const [name, v] of Object.entries(options)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a whole number >= 1`);
    }
    this.global = new Gate(
      options.maxConcurrency,
      () => this.globalTypical,
      () => {},
    );
  }

  stats(): ProbeLimitsStats {
    let queued = this.global.waiting;
    for (const g of this.perTarget.values()) queued += g.waiting;
    return { running: this.global.holders.size, queued, targets: this.perTarget.size };
  }

  /**
   * Waits for a slot for `target` until the budget's signal fires or its deadline would
   * pass; never longer. Throws a 503 ProbeRefusal when there is none. When both slots
   * are free the answer is the slot itself, not a promise of it.
   */
  acquire(target: Target, budget: WaitBound): ProbeSlot | Promise<ProbeSlot> {
    const key = targetKey(target);
    const gate = this.gate(key);
    const own = gate.tryAcquire(budget.signal);
    const all = own && this.global.tryAcquire(budget.signal);
    if (own && all) return this.held(key, own, all);
    return this.acquireQueued(key, gate, own, target, budget);
  }

  private gate(key: string): Gate {
    let gate = this.perTarget.get(key);
    if (!gate) {
      const created = new Gate(
        this.options.maxPerTarget,
        () => this.typical.get(key),
        () => {
          if (this.perTarget.get(key) === created) this.perTarget.delete(key);
        },
      );
      gate = created;
      this.perTarget.set(key, gate);
    }
    return gate;
  }

  /** The slow path: queue for the target's slot unless already held, then for a global one. */
  private async acquireQueued(key: string, gate: Gate, held: ProbeSlot | undefined, target: Target, budget: WaitBound): Promise<ProbeSlot> {
    const own =
      held ??
      (await gate.acquire(
        budget,
        (why) => `too many probes in flight for target ${target.raw} (at most ${this.options.maxPerTarget} at once, --probe.max-per-target): ${why}`,
      ));
    let all: ProbeSlot;
    try {
      all = await this.global.acquire(
        budget,
        (why) =>
          `too many probes in flight for target ${target.raw}: all ${this.options.maxConcurrency} probe slots of the exporter are busy (--probe.max-concurrency): ${why}`,
      );
    } catch (err) {
      own.release();
      throw err;
    }
    return this.held(key, own, all);
  }

  /** Both slots, released together; how long they were held feeds the target's typical duration. */
  private held(key: string, own: ProbeSlot, all: ProbeSlot): ProbeSlot {
    const started = performance.now();
    let held = true;
    return {
      waitedMs: own.waitedMs + all.waitedMs,
      release: () => {
        if (!held) return;
        held = false;
        this.remember(key, performance.now() - started);
        all.release();
        own.release();
      },
    };
  }

  /** Records how long a probe held its slots, for predicting the wait of the next ones. */
  private remember(key: string, ms: number): void {
    const prev = this.typical.get(key);
    this.typical.delete(key);
    this.typical.set(key, prev === undefined ? ms : prev + EWMA_ALPHA * (ms - prev));
    if (this.typical.size > MAX_REMEMBERED_TARGETS) this.typical.delete(this.typical.keys().next().value as string);
    this.globalTypical = this.globalTypical === undefined ? ms : this.globalTypical + EWMA_ALPHA * (ms - this.globalTypical);
  }
}
