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

/** An entry in probe order: a doubly linked list, since a Map's iterator skips every deleted slot from its start. */
interface Node {
  key: string;
  entry: FleetEntry;
  older?: Node;
  newer?: Node;
}

/**
 * The last result of every (module, target, auth) probed in the last hour, fed by the probes
 * that run anyway (no probe of its own, so no load on any gateway). Bounded: at most
 * maxEntries, least recently probed dropped first. A dropped target is remembered by a
 * 53-bit hash of its key (as many as there are entries), so the page can say how many
 * targets probed within the hour it no longer shows; a dropped target probed again is
 * back and no longer counted. Every operation is O(1) but a listing.
 */
export class FleetStore {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly index = new Map<string, Node>();
  /** The least recently probed, and the most. */
  private oldest?: Node;
  private newest?: Node;
  /** Dropped targets: hash -> when last probed. */
  private readonly dropped = new Map<number, number>();
  /** The same in the order they were dropped, a ring; a slot whose hash came back is stale and skipped. */
  private ring?: { hashes: Float64Array; times: Float64Array; first: number; count: number };
  /** Until then the dropped count is a lower bound: the ring overflowed. */
  private droppedUncountedUntil = 0;

  constructor(o: FleetOptions) {
    if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) throw new RangeError('fleet max entries must be a positive integer');
    this.maxEntries = o.maxEntries;
    this.maxAgeMs = o.maxAgeMs ?? HOUR_MS;
    this.now = o.now ?? Date.now;
  }

  record(p: FleetProbe): void {
    const key = `${p.module}\0${p.targetKey}\0${p.auth ?? ''}`;
    const entry = summarize(p);
    const known = this.index.get(key);
    if (known) {
      this.unlink(known);
      known.entry = entry;
      this.append(known);
    } else {
      if (this.dropped.size > 0) this.dropped.delete(hash53(key));
      const node: Node = { key, entry };
      this.index.set(key, node);
      this.append(node);
    }
    this.expire();
    while (this.index.size > this.maxEntries && this.oldest) {
      const gone = this.oldest;
      this.remove(gone);
      this.remember(hash53(gone.key), gone.entry.probedAt);
    }
  }

  /** The entries of the last hour, least recently probed first, and how many targets the bound dropped. */
  snapshot(): { entries: FleetEntry[]; dropped: number; droppedIsLowerBound: boolean } {
    this.expire();
    const entries: FleetEntry[] = [];
    for (let n = this.oldest; n; n = n.newer) entries.push(n.entry);
    return { entries, dropped: this.dropped.size, droppedIsLowerBound: this.now() < this.droppedUncountedUntil };
  }

  get size(): number {
    return this.index.size;
  }

  /**
   * Removes what is older than maxAge, from the oldest. A probe is recorded when it ends, so
   * the order is by end, not start; one that started earlier but ended later waits behind
   * a younger one for at most a probe's timeout.
   */
  private expire(): void {
    const cutoff = this.now() - this.maxAgeMs;
    while (this.oldest && this.oldest.entry.probedAt < cutoff) this.remove(this.oldest);
    const r = this.ring;
    while (r && r.count > 0 && (r.times[r.first] as number) < cutoff) this.shift(r);
  }

  private remember(hash: number, at: number): void {
    this.ring ??= { hashes: new Float64Array(this.maxEntries), times: new Float64Array(this.maxEntries), first: 0, count: 0 };
    const r = this.ring;
    if (r.count === this.maxEntries) {
      const lost = r.times[r.first] as number;
      if (this.shift(r)) this.droppedUncountedUntil = Math.max(this.droppedUncountedUntil, lost + this.maxAgeMs);
    }
    const slot = (r.first + r.count) % this.maxEntries;
    r.hashes[slot] = hash;
    r.times[slot] = at;
    r.count++;
    this.dropped.set(hash, at);
  }

  /** Drops the ring's first slot; true if it was still counted. */
  private shift(r: NonNullable<FleetStore['ring']>): boolean {
    const hash = r.hashes[r.first] as number;
    const live = this.dropped.get(hash) === r.times[r.first];
    if (live) this.dropped.delete(hash);
    r.first = (r.first + 1) % this.maxEntries;
    r.count--;
    return live;
  }

  private append(n: Node): void {
    n.older = this.newest;
    n.newer = undefined;
    if (this.newest) this.newest.newer = n;
    else this.oldest = n;
    this.newest = n;
  }

  private unlink(n: Node): void {
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    n.older = undefined;
    n.newer = undefined;
  }

  private remove(n: Node): void {
    this.unlink(n);
    this.index.delete(n.key);
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
