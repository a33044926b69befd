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
/** Room for a sample's value and newline: String() of a double is at most 24 characters. */
const VALUE_BYTES = 32;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** The bytes a family writes around its samples: fixed by its name, help, type and labels. */
interface FamilyBytes {
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly string[];
  /** `name{first="`, then `",next="` for each further label: the bytes between label values. */
  readonly heads: Buffer[];
  /** `"} ` after the last label value, or ` ` without labels. */
  readonly tail: Buffer;
  /** The # HELP and # TYPE lines. */
  readonly header: Buffer;
  /** The most a sample writes beside its label values. */
  readonly fixedBytes: number;
}

/**
 * Families are declared in code: a few hundred names, each with one help, type and label
 * list. Their bytes are made once per name, not once per probe (a refused probe's three
 * families made nine small buffers each time). A name declared again with other help or
 * labels (only tests do) gets bytes of its own, uncached.
 */
const FAMILY_BYTES = new Map<string, FamilyBytes>();
const MAX_CACHED_FAMILIES = 4096;

function familyBytes(name: string, help: string, type: MetricType, labelNames: readonly string[]): FamilyBytes {
  const known = FAMILY_BYTES.get(name);
  if (known && known.help === help && known.type === type && sameStrings(known.labelNames, labelNames)) return known;
  const escapedHelp = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  const heads = labelNames.map((n, i) => Buffer.from(`${i === 0 ? `${name}{` : '",'}${n}="`, 'utf8'));
  const tail = Buffer.from(labelNames.length > 0 ? '"} ' : `${name} `, 'utf8');
  const made: FamilyBytes = {
    help,
    type,
    labelNames: [...labelNames],
    heads,
    tail,
    header: Buffer.from(`# HELP ${name} ${escapedHelp}\n# TYPE ${name} ${type}\n`, 'utf8'),
    fixedBytes: heads.reduce((n, h) => n + h.length, tail.length) + VALUE_BYTES,
  };
  if (!known && FAMILY_BYTES.size < MAX_CACHED_FAMILIES) FAMILY_BYTES.set(name, made);
  return made;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const NO_BYTES = Buffer.alloc(0);

export class MetricFamily<L extends string> {
  /**
   * Finished sample lines, as UTF-8 bytes written in place: no string is made per line.
   * A large gateway's hundreds of thousands of lines, built as strings, were most of a
   * probe's allocations and so most of its garbage collection.
   * Label sets are unique by construction: every family is keyed by names the
   * snapshot holds once (see uniqueByName in probe-metrics.ts) or by grouping.
   */
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer = NO_BYTES;
  private used = 0;
  private count = 0;
  private readonly heads: Buffer[];
  private readonly tail: Buffer;
  private readonly header: Buffer;
  private readonly fixedBytes: number;
  /** The sample being written's label values, in label order. */
  private readonly values: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly labelNames: readonly L[],
  ) {
    const bytes = familyBytes(name, help, type, labelNames);
    this.heads = bytes.heads;
    this.tail = bytes.tail;
    this.header = bytes.header;
    this.fixedBytes = bytes.fixedBytes;
    this.values = labelNames.map(() => '');
  }

  /** Adds a sample; the caller guarantees its label set is new to this family. */
  set(labels: Record<L, string>, value: number): void {
    const names = this.labelNames;
    const values = this.values;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8, an escaped character 2. Each label is
    // looked up once: callers' label objects have many shapes, so each lookup is a slow one.
    let worst = this.fixedBytes;
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i] as L];
      values[i] = v;
      worst += 3 * v.length;
    }
    if (this.used + worst > this.chunk.length) this.grow(worst);
    const buf = this.chunk;
    let pos = this.used;
    for (let i = 0; i < names.length; i++) {
      pos = copyInto(buf, pos, this.heads[i] as Buffer);
      pos = writeLabelValue(buf, pos, values[i] as string);
    }
    pos = copyInto(buf, pos, this.tail);
    pos = writeValue(buf, pos, value);
    buf[pos++] = NEWLINE;
    this.used = pos;
    this.count++;
  }

  private grow(worst: number): void {
    if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
    const size = Math.min(MAX_CHUNK, Math.max(FIRST_CHUNK, this.chunk.length * 2));
    this.chunk = Buffer.allocUnsafe(Math.max(size, worst));
    this.used = 0;
  }

  get size(): number {
    return this.count;
  }

  render(out: Buffer[]): void {
    if (this.count === 0) return;
    out.push(this.header, ...this.chunks);
    if (this.used > 0) out.push(this.chunk.subarray(0, this.used));
  }
}

/** A few bytes, by TypedArray.prototype.set: a builtin, where Buffer.copy's native call costs more than the copy at this size. */
function copyInto(buf: Buffer, pos: number, bytes: Buffer): number {
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** An escaped label value at `pos`; ASCII byte by byte, anything else through the UTF-8 encoder. */
function writeLabelValue(buf: Buffer, start: number, v: string): number {
  let pos = start;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) return start + buf.write(escapeLabelValue(v), start, 'utf8');
    if (c === BACKSLASH || c === QUOTE) {
      buf[pos++] = BACKSLASH;
      buf[pos++] = c;
    } else if (c === NEWLINE) {
      buf[pos++] = BACKSLASH;
      buf[pos++] = 0x6e;
    } else {
      buf[pos++] = c;
    }
  }
  return pos;
}

/** A sample value as the text format writes it: non-negative integers digit by digit, others as String() does. */
function writeValue(buf: Buffer, start: number, v: number): number {
  // Below 2^31 (counts, ages, most byte counters) in integer arithmetic, where dividing by
  // ten compiles to a multiplication; a double's division is several times slower.
  if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) return writeSmallInteger(buf, start, v);
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v)) return start + buf.write(formatValue(v), start, 'latin1');
  let digits = 1;
  for (let n = v; n >= 10; n = Math.floor(n / 10)) digits++;
  let pos = start + digits;
  let n = v;
  do {
    const q = Math.floor(n / 10);
    buf[--pos] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return start + digits;
}

function writeSmallInteger(buf: Buffer, start: number, v: number): number {
  let digits = 1;
  for (let n = v; n >= 10; n = (n / 10) | 0) digits++;
  let pos = start + digits;
  let n = v;
  do {
    const q = (n / 10) | 0;
    buf[--pos] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return start + digits;
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
        // Without max_users every series is kept: no label looked up, no key joined.
        if (this.kept === undefined) return f.set(labels, value);
        const u = labels[user.user];
        const t = labels[user.tunnel];
        if ((u === OVERFLOW_USER && t === OVERFLOW_USER) || this.kept.has(key(t, u))) f.set(labels, value);
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
    return Buffer.concat(this.renderChunks());
  }

  /** The same bytes in the pieces the families wrote, for a body sent without joining them first. */
  renderChunks(): Buffer[] {
    const out: Buffer[] = [];
    for (const f of this.families.values()) f.render(out);
    return out;
  }

  render(): string {
    return this.renderBytes().toString('utf8');
  }
}
