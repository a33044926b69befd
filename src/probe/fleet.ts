import type { GatewaySnapshot } from '../model/snapshot.js';
import type { FailureReason } from './failure.js';
import type { ProbeRecord } from './history.js';

type Source = ProbeRecord['source'];

/** Tunnel counts of one probe; ignored tunnels are left out, as in vpn_tunnel_up. */
export interface TunnelCounts {
  up: number;
  /** down and partial: configured, carrying no traffic. */
  down: number;
  /** On an HA unit that does not carry traffic now. */
  standby: number;
  /** unknown: the gateway said something we cannot map. */
  unknown: number;
}

/**
 * What the fleet page shows of the last probe of one (module, target, auth): a few numbers
 * and short strings, never the snapshot (a hub's is megabytes) and never a secret (the
 * auth's name, not its credentials).
 */
export interface FleetEntry {
  module: string;
  prober: string;
  /** As the last probe named it. */
  target: string;
  auth?: string;
  /** When the last probe started, ms since the epoch. */
  probedAt: number;
  durationSeconds: number;
  success: boolean;
  failureReason?: FailureReason;
  /** The human reason, cut to FAILURE_TEXT_MAX characters. */
  failure?: string;
  source: Source;
  /** Absent on a failure: the counts of an earlier success would pass for current ones. */
  tunnels?: TunnelCounts;
  /** Connected sessions (users and peers). */
  users?: number;
  /** The nearest certificate notAfter, Unix seconds. */
  certificateExpiry?: number;
  /** The nearest CRL nextUpdate, Unix seconds. */
  crlNextUpdate?: number;
  /** The probe's id in /history and /logs. */
  logId: number;
}

/** What the service hands over after each probe. */
export interface FleetProbe {
  id: number;
  module: string;
  prober: string;
  target: string;
  /** targetKey(target): "gw" and "gw:4502" are one target. */
  targetKey: string;
  auth?: string;
  startedAt: number;
  durationSeconds: number;
  success: boolean;
  failure?: string;
  failureReason?: FailureReason;
  source: Source;
  snapshot?: GatewaySnapshot;
}

export interface FleetOptions {
  /** Entries kept at most; beyond it the least recently probed goes. */
  maxEntries: number;
  /** Entries older than this are gone (default one hour). */
  maxAgeMs?: number;
  /** The clock, ms since the epoch (tests move it). */
  now?: () => number;
}

export const DEFAULT_FLEET_MAX_ENTRIES = 10_000;
const HOUR_MS = 3_600_000;
const FAILURE_TEXT_MAX = 200;

/**
 * The last result of every (module, target, auth) probed in the last hour, fed by the probes
 * that run anyway (no probe of its own, so no load on any gateway). Bounded: at most
 * maxEntries, least recently probed dropped first. A dropped target is remembered by a
 * 53-bit hash of its key (as many as there are entries), so the page can say how many
 * targets probed within the hour it no longer shows; a dropped target probed again is
 * back and no longer counted.
 */
export class FleetStore {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;
  /** Map order is probe order: the first entry is the least recently probed. */
  private readonly entries = new Map<string, FleetEntry>();
  /** Dropped keys' hashes -> when that target was last probed; same order. */
  private readonly dropped = new Map<number, number>();
  /** Until then the dropped count is a lower bound: its own bound overflowed. */
  private droppedUncountedUntil = 0;

  constructor(o: FleetOptions) {
    if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) throw new RangeError('fleet max entries must be a positive integer');
    this.maxEntries = o.maxEntries;
    this.maxAgeMs = o.maxAgeMs ?? HOUR_MS;
    this.now = o.now ?? Date.now;
  }

  record(p: FleetProbe): void {
    const key = `${p.module}\0${p.targetKey}\0${p.auth ?? ''}`;
    this.entries.delete(key);
    this.dropped.delete(hash53(key));
    this.entries.set(key, summarize(p));
    this.expire();
    while (this.entries.size > this.maxEntries) {
      const [oldKey, old] = this.entries.entries().next().value as [string, FleetEntry];
      this.entries.delete(oldKey);
      this.dropped.set(hash53(oldKey), old.probedAt);
      if (this.dropped.size > this.maxEntries) {
        const [h, at] = this.dropped.entries().next().value as [number, number];
        this.dropped.delete(h);
        this.droppedUncountedUntil = Math.max(this.droppedUncountedUntil, at + this.maxAgeMs);
      }
    }
  }

  /** The entries of the last hour, least recently probed first, and how many targets the bound dropped. */
  snapshot(): { entries: FleetEntry[]; dropped: number; droppedIsLowerBound: boolean } {
    this.expire();
    return {
      entries: [...this.entries.values()],
      dropped: this.dropped.size,
      droppedIsLowerBound: this.now() < this.droppedUncountedUntil,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Removes what is older than maxAge from the front. A probe is recorded when it ends, so
   * the order is by end, not start; one that started earlier but ended later waits behind
   * a younger one for at most a probe's timeout.
   */
  private expire(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [key, e] of this.entries) {
      if (e.probedAt >= cutoff) break;
      this.entries.delete(key);
    }
    for (const [h, at] of this.dropped) {
      if (at >= cutoff) break;
      this.dropped.delete(h);
    }
  }
}

function summarize(p: FleetProbe): FleetEntry {
  const e: FleetEntry = {
    module: p.module,
    prober: p.prober,
    target: p.target,
    probedAt: p.startedAt,
    durationSeconds: p.durationSeconds,
    success: p.success,
    source: p.source,
    logId: p.id,
  };
  if (p.auth !== undefined) e.auth = p.auth;
  if (!p.success) {
    e.failureReason = p.failureReason ?? 'other';
    if (p.failure !== undefined) e.failure = p.failure.length > FAILURE_TEXT_MAX ? `${p.failure.slice(0, FAILURE_TEXT_MAX - 1)}…` : p.failure;
  }
  const s = p.snapshot;
  if (s) {
    const tunnels: TunnelCounts = { up: 0, down: 0, standby: 0, unknown: 0 };
    for (const t of s.tunnels) {
      if (t.state === 'up') tunnels.up++;
      else if (t.state === 'down' || t.state === 'partial') tunnels.down++;
      else if (t.state === 'standby') tunnels.standby++;
      else if (t.state === 'unknown') tunnels.unknown++;
    }
    e.tunnels = tunnels;
    e.users = s.sessions.length;
    const certificateExpiry = minimum(s.certificates?.map((c) => c.notAfterTimestamp));
    if (certificateExpiry !== undefined) e.certificateExpiry = certificateExpiry;
    const crlNextUpdate = minimum(s.crls?.map((c) => c.nextUpdateTimestamp));
    if (crlNextUpdate !== undefined) e.crlNextUpdate = crlNextUpdate;
  }
  return e;
}

function minimum(values: readonly (number | undefined)[] | undefined): number | undefined {
  let min: number | undefined;
  for (const v of values ?? []) if (v !== undefined && Number.isFinite(v) && (min === undefined || v < min)) min = v;
  return min;
}

/** cyrb53 (public domain): a 53-bit string hash; collisions among 10^4 keys have odds near 10^-8. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
