/**
 * A fresh, per-request set of metric families rendered straight to the Prometheus text
 * format (0.0.4). prom-client serves the exporter's own long-lived /metrics; for a probe of
 * a large concentrator (hundreds of thousands of series, built once and thrown away) its
 * per-series bookkeeping cost several times what writing the lines does.
 */
import { key } from './family.js';
import { FULL_DETAIL, includesLevel, OVERFLOW_USER, type Detail, type ExpositionPolicy } from './policy.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter';

function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Smallest and largest chunk a family writes its lines into. */
const FIRST_CHUNK = 1024;
const MAX_CHUNK = 256 * 1024;
const PENDING_CHARS = 16 * 1024;

export class MetricFamily<L extends string> {
  /**
   * Finished sample lines, as UTF-8 bytes. Kept off the JS heap: a large gateway's
   * hundreds of thousands of line strings would otherwise survive into the old
   * generation and be copied and marked, which cost more than building them.
   * Label sets are unique by construction: every family is keyed by names the
   * snapshot holds once (see uniqueByName in probe-metrics.ts) or by grouping.
   */
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  /** Lines not yet encoded: encoding a few kilobytes at a time saves a native call per line. */
  private pending = '';
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly labelNames: readonly L[],
  ) {}

  /** Adds a sample; the caller guarantees its label set is new to this family. */
  set(labels: Record<L, string>, value: number): void {
    let line = this.name;
    const names = this.labelNames;
    for (let i = 0; i < names.length; i++) {
      const n = names[i] as L;
      line += `${(i === 0 ? '{' : ',') + n}="${escapeLabelValue(labels[n])}"`;
    }
    if (names.length > 0) line += '}';
    this.pending += `${line} ${formatValue(value)}\n`;
    this.count++;
    if (this.pending.length >= PENDING_CHARS) this.encodePending();
  }

  private encodePending(): void {
    const text = this.pending;
    this.pending = '';
    // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
    const worst = text.length * 3;
    if (this.used + worst > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      const size = Math.min(MAX_CHUNK, Math.max(FIRST_CHUNK, this.chunk.length * 2));
      this.chunk = Buffer.allocUnsafe(Math.max(size, worst));
      this.used = 0;
    }
    this.used += this.chunk.write(text, this.used, 'utf8');
  }

  get size(): number {
    return this.count;
  }

  render(out: Buffer[]): void {
    if (this.count === 0) return;
    if (this.pending.length > 0) this.encodePending();
    const help = this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    out.push(Buffer.from(`# HELP ${this.name} ${help}\n# TYPE ${this.name} ${this.type}\n`, 'utf8'), ...this.chunks);
    if (this.used > 0) out.push(this.chunk.subarray(0, this.used));
  }
}

/**
 * Where a family sits under the module's policy: its detail level (default `tunnels`,
 * always written), and, for a family with one series per user, which labels name the
 * user and its tunnel, so `user_labels: dropped` and `max_users` reach it too.
 */
export interface FamilyScope<L extends string> {
  level?: Detail;
  user?: { tunnel: L; user: L };
}

/** What a family the policy leaves out hands its caller: it takes samples and writes nothing. */
export interface SampleSink<L extends string> {
  set(labels: Record<L, string>, value: number): void;
  readonly size: number;
}

const LEFT_OUT: SampleSink<never> = { set() {}, size: 0 };

export class MetricSet {
  private readonly families = new Map<string, MetricFamily<string>>();
  /** Names of families the policy left out: still reserved, so a name defined twice is still a bug. */
  private readonly leftOut = new Set<string>();
  /** Set once by the core family when max_users applies: key(tunnel, user) of the users kept. */
  private kept?: ReadonlySet<string>;

  constructor(readonly policy: ExpositionPolicy = FULL_DETAIL) {}

  family<L extends string>(name: string, help: string, type: MetricType, labelNames: readonly L[], scope: FamilyScope<L> = {}): SampleSink<L> {
    if (this.families.has(name) || this.leftOut.has(name)) throw new Error(`metric family ${name} defined twice`);
    const { level = 'tunnels', user } = scope;
    if (!includesLevel(this.policy.detail, level) || (user && this.policy.userLabels === 'dropped')) {
      this.leftOut.add(name);
      return LEFT_OUT;
    }
    const f = new MetricFamily<L>(name, help, type, labelNames);
    this.families.set(name, f as unknown as MetricFamily<string>);
    if (!user) return f;
    // A per-user family keeps the series of kept users only (the core family sums the rest).
    return {
      set: (labels, value) => {
        const u = labels[user.user];
        const t = labels[user.tunnel];
        if (this.kept === undefined || (u === OVERFLOW_USER && t === OVERFLOW_USER) || this.kept.has(key(t, u))) f.set(labels, value);
      },
      get size() {
        return f.size;
      },
    };
  }

  /** The users (key(tunnel, user)) that keep their own series under max_users. */
  keepUsers(keys: ReadonlySet<string>): void {
    this.kept = keys;
  }

  /** Samples written so far: the probe's series count, known without rendering. */
  get seriesCount(): number {
    let n = 0;
    for (const f of this.families.values()) n += f.size;
    return n;
  }

  /** The text format, as the bytes of the response body. */
  renderBytes(): Buffer<ArrayBuffer> {
    const out: Buffer[] = [];
    for (const f of this.families.values()) f.render(out);
    return Buffer.concat(out);
  }

  render(): string {
    return this.renderBytes().toString('utf8');
  }
}
