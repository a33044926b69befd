/**
 * A fresh, per-request set of metric families rendered straight to the Prometheus text
 * format (0.0.4). prom-client serves the exporter's own long-lived /metrics; for a probe of
 * a large concentrator (hundreds of thousands of series, built once and thrown away) its
 * per-series bookkeeping cost several times what writing the lines does.
 */
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

export class MetricSet {
  private readonly families = new Map<string, MetricFamily<string>>();

  family<L extends string>(name: string, help: string, type: MetricType, labelNames: readonly L[]): MetricFamily<L> {
    if (this.families.has(name)) throw new Error(`metric family ${name} defined twice`);
    const f = new MetricFamily<L>(name, help, type, labelNames);
    this.families.set(name, f as unknown as MetricFamily<string>);
    return f;
  }

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
