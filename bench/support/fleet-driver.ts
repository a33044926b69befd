// A load driver that scrapes like Prometheus: every target once per interval, each at its own fixed
// offset inside the interval (targets spread evenly), with the scrape-timeout header, over keep-alive
// HTTP connections. Bounded by a duration; it stops dispatching by itself and waits for the last
// answers (each of which is bounded by the scrape timeout).
import http from 'node:http';
import { percentile } from './stats.js';

export interface FleetTarget {
  kind: string;
  module: string;
  target: string;
}

export interface ScrapeRecord {
  target: number;
  /** Scheduled time, ms since the driver's start. */
  due: number;
  /** How late the request left, ms (the driver's own scheduling delay). */
  lag: number;
  /** Request sent to last byte of the answer, ms. */
  latency: number;
  ok: boolean;
  /** Size of the answer (exposition text). */
  bytes: number;
  /** "probe_success 0", "timeout", "http 500", "error ECONNRESET"… */
  failure?: string;
}

export interface DriveOptions {
  url: string;
  targets: readonly FleetTarget[];
  intervalMs: number;
  durationMs: number;
  scrapeTimeoutSeconds: number;
  /** Called once at this many ms after the start (e.g. to snapshot counters after the warm-up). */
  mark?: { atMs: number; fn: () => void };
}

export interface DriveResult {
  records: ScrapeRecord[];
  /** performance.now() at the driver's time origin. */
  origin: number;
  /** When the last answer came back, ms since the origin. */
  endedAt: number;
}

export async function drive(opts: DriveOptions): Promise<DriveResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
  const base = new URL(opts.url);
  const n = opts.targets.length;
  const paths = opts.targets.map((t) => `/probe?module=${encodeURIComponent(t.module)}&target=${encodeURIComponent(t.target)}`);
  const offsets = opts.targets.map((_, i) => (i * opts.intervalMs) / n);
  const records: ScrapeRecord[] = [];
  const inFlight = new Set<Promise<void>>();
  const origin = performance.now() + 100;
  const clientTimeoutMs = opts.scrapeTimeoutSeconds * 1000;
  let marked = opts.mark === undefined;

  const scrape = (i: number, due: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      const rec: ScrapeRecord = { target: i, due, lag: sent - origin - due, latency: 0, ok: false, bytes: 0 };
      let done = false;
      const finish = (failure: string | undefined) => {
        if (done) return;
        done = true;
        rec.latency = performance.now() - sent;
        rec.ok = failure === undefined;
        if (failure !== undefined) rec.failure = failure;
        records.push(rec);
        resolve();
      };
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          path: paths[i],
          agent,
          headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(opts.scrapeTimeoutSeconds) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode !== 200) return finish(`http ${res.statusCode}`);
            const body = Buffer.concat(chunks).toString('utf8');
            rec.bytes = body.length;
            finish(/^probe_success 1$/m.test(body) ? undefined : 'probe_success 0');
          });
          res.on('error', (err: NodeJS.ErrnoException) => finish(`error ${err.code ?? err.message}`));
        },
      );
      // Prometheus gives up on a scrape at its timeout, however far the request got.
      const timer = setTimeout(() => {
        const connecting = req.socket === null || req.socket.connecting;
        finish(connecting ? 'timeout: no connection to the exporter (accept queue full?)' : 'timeout: no answer within the scrape timeout');
        req.destroy();
      }, clientTimeoutMs);
      req.once('close', () => clearTimeout(timer));
      req.on('error', (err: NodeJS.ErrnoException) => finish(`error ${err.code ?? err.message}`));
      req.end();
    });

  for (let k = 0; ; k++) {
    const i = k % n;
    const due = Math.floor(k / n) * opts.intervalMs + (offsets[i] as number);
    if (due >= opts.durationMs) break;
    if (!marked && due >= (opts.mark as { atMs: number }).atMs) {
      marked = true;
      opts.mark?.fn();
    }
    const wait = origin + due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = scrape(i, due);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { records, origin, endedAt: performance.now() - origin };
}

export interface Summary {
  probes: number;
  failed: number;
  /** Failures by category, most frequent first. */
  failures: [string, number][];
  p50: number;
  p99: number;
  max: number;
  lagP99: number;
  /** Probes per second over the window (answered ones). */
  rate: number;
  /** Targets scraped fewer times than the window's intervals promise. */
  missedTargets: number;
  /** Mean size of a successful answer, bytes. */
  meanBytes: number;
}

/** Statistics of the scrapes scheduled in [fromMs, toMs). Latencies in seconds. */
export function summarize(
  records: readonly ScrapeRecord[],
  fromMs: number,
  toMs: number,
  opts: { targets: number; intervalMs: number; kind?: (target: number) => boolean },
): Summary {
  const inWindow = records.filter((r) => r.due >= fromMs && r.due < toMs && (opts.kind?.(r.target) ?? true));
  const lat = inWindow.map((r) => r.latency / 1000).sort((a, b) => a - b);
  const lag = inWindow.map((r) => r.lag / 1000).sort((a, b) => a - b);
  const byReason = new Map<string, number>();
  for (const r of inWindow) if (!r.ok) byReason.set(r.failure ?? '?', (byReason.get(r.failure ?? '?') ?? 0) + 1);
  const perTarget = new Map<number, number>();
  for (const r of inWindow) if (r.ok) perTarget.set(r.target, (perTarget.get(r.target) ?? 0) + 1);
  const intervals = Math.floor((toMs - fromMs) / opts.intervalMs);
  let missed = 0;
  for (let t = 0; t < opts.targets; t++) {
    if (opts.kind && !opts.kind(t)) continue;
    if ((perTarget.get(t) ?? 0) < intervals) missed++;
  }
  const okOnes = inWindow.filter((r) => r.ok);
  return {
    probes: inWindow.length,
    failed: inWindow.length - inWindow.filter((r) => r.ok).length,
    failures: [...byReason].sort((a, b) => b[1] - a[1]),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat[lat.length - 1] ?? NaN,
    lagP99: percentile(lag, 99),
    rate: inWindow.filter((r) => r.ok).length / ((toMs - fromMs) / 1000),
    missedTargets: missed,
    meanBytes: okOnes.reduce((a, r) => a + r.bytes, 0) / Math.max(1, okOnes.length),
  };
}
