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

export class MetricFamily<L extends string> {
  /**
   * Finished sample lines. Label sets are unique by construction: every family is keyed by
   * names the snapshot holds once (see uniqueByName in probe-metrics.ts) or by grouping.
   */
  private readonly lines: string[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly labelNames: readonly L[],
  ) {}

  /** Adds a sample; the caller guarantees its label set is new to this family. */
  set(labels: Record<L, string>, value: number): void {
    let series = this.name;
    const names = this.labelNames;
    for (let i = 0; i < names.length; i++) {
      const n = names[i] as L;
      series += (i === 0 ? '{' : ',') + n + '="' + escapeLabelValue(labels[n]) + '"';
    }
    if (names.length > 0) series += '}';
    this.lines.push(series + ' ' + formatValue(value));
  }

  get size(): number {
    return this.lines.length;
  }

  render(out: string[]): void {
    if (this.lines.length === 0) return;
    out.push(`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`);
    for (const line of this.lines) out.push(line);
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

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) f.render(out);
    out.push('');
    return out.join('\n');
  }
}
