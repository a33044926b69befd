/** Reading the exporter's answers in tests: Prometheus text exposition, samples by name and labels. */

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Every sample of one metric, label values unescaped. */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** Samples of `name` whose labels include `match`. */
export function matching(text: string, name: string, match: Record<string, string>): Sample[] {
  return samples(text, name).filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The sorted distinct values of one label over a metric's samples. */
export function labelValues(text: string, name: string, label: string, match: Record<string, string> = {}): string[] {
  return [...new Set(matching(text, name, match).map((s) => s.labels[label] ?? ''))].sort();
}
