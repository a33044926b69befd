// Fault drills against a running exporter: a scrape loop per target that never stops while faults
// are injected and removed, a liveness loop on /-/healthy, a management path whose link can be cut
// without resetting anything, and a drill that records what each probe saw around a fault.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../support/wait-for.js';
import { addAddress, addRoute, createNamespace, createVethPair, deleteNamespace, forwardPortFromNs, labPrefix, run, type Daemon } from './netns.js';

// ---- continuous scraping ------------------------------------------------------------------------

export interface ProbeRecord {
  /** Sequence number within its loop, from 1. */
  n: number;
  /** Seconds since the clock's origin. */
  start: number;
  end: number;
  ok: boolean;
  /** The exporter's reason for a failed probe ("probe failed reason=…" in the debug answer). */
  reason?: string;
  /** A failed probe's own log lines from the debug answer. */
  log?: string[];
}

/** Seconds since one origin shared by every loop and drill of a test file. */
export class DrillClock {
  readonly origin = performance.now();
  readonly wallOrigin = new Date();
  now(): number {
    return (performance.now() - this.origin) / 1000;
  }
}

type Get = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Probes one target every `periodMs` (the next probe starts a period after the previous one
 * started, or at once if that one took longer) until stopped or `maxSeconds` have passed.
 */
export class ScrapeLoop {
  readonly records: ProbeRecord[] = [];
  private stopped = false;
  private readonly done: Promise<void>;
  private wake: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly get: Get,
    private readonly module: string,
    private readonly target: string,
    private readonly clock: DrillClock,
    private readonly opts: { periodMs: number; maxSeconds: number; httpTimeoutMs: number },
  ) {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
  }

  /** The first probe started at or after `t` that satisfies `ok`, waiting for it at most `timeoutMs`. */
  async first(t: number, pred: (r: ProbeRecord) => boolean, timeoutMs: number): Promise<ProbeRecord | undefined> {
    const hit = () => this.records.find((r) => r.start >= t && pred(r));
    return waitFor('a matching probe', hit, { timeoutMs, intervalMs: 50, giveUpIf: this.ifStopped }).catch(() => undefined);
  }

  /** Probes started in [from, to). */
  between(from: number, to: number): ProbeRecord[] {
    return this.records.filter((r) => r.start >= from && r.start < to);
  }

  /** Waits until the last `count` probes all succeeded. */
  async steady(count: number, timeoutMs: number): Promise<boolean> {
    const allOk = () => {
      const last = this.records.slice(-count);
      return last.length === count && last.every((r) => r.ok);
    };
    return waitFor(`${count} successful probes in a row`, allOk, { timeoutMs, intervalMs: 50, giveUpIf: this.ifStopped }).then(
      () => true,
      () => false,
    );
  }

  private readonly ifStopped = () => (this.stopped ? 'the loop stopped' : undefined);

  private async loop(): Promise<void> {
    const path = `/probe?module=${encodeURIComponent(this.module)}&target=${encodeURIComponent(this.target)}&debug=true`;
    const deadline = this.clock.now() + this.opts.maxSeconds;
    for (let n = 1; !this.stopped && this.clock.now() < deadline; n++) {
      const start = this.clock.now();
      let ok = false;
      let reason: string | undefined;
      let log: string[] | undefined;
      try {
        const res = await this.get(path, { signal: AbortSignal.timeout(this.opts.httpTimeoutMs) });
        const text = await res.text();
        if (res.status !== 200) reason = `HTTP ${res.status}: ${text.slice(0, 200)}`;
        else if (/^probe_success 1$/m.test(text)) ok = true;
        else {
          reason = failureReason(text);
          log = probeLog(text);
        }
      } catch (err) {
        reason = `no answer from the exporter: ${err instanceof Error ? err.message : String(err)}`;
      }
      const rec: ProbeRecord = { n, start, end: this.clock.now(), ok };
      if (reason !== undefined) rec.reason = reason;
      if (log !== undefined) rec.log = log;
      this.records.push(rec);
      const wait = start + this.opts.periodMs / 1000 - this.clock.now();
      if (wait > 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait * 1000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}

function probeLog(debugText: string): string[] {
  const start = debugText.indexOf('Logs for the probe:\n');
  if (start < 0) return [];
  const body = debugText.slice(start + 'Logs for the probe:\n'.length);
  return body.slice(0, body.indexOf('\n\n')).split('\n').slice(0, 20);
}

function failureReason(debugText: string): string {
  const m = /probe failed reason=("(?:[^"\\]|\\.)*"|\S+)/.exec(debugText);
  if (!m?.[1]) return 'probe_success 0 (no reason logged)';
  try {
    return m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
  } catch {
    return m[1];
  }
}

/** Asks /-/healthy every `periodMs` until stopped; keeps every answer that was not a 200. */
export class HealthLoop {
  checks = 0;
  readonly bad: { t: number; what: string }[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly get: Get,
    private readonly clock: DrillClock,
    private readonly opts: { periodMs: number; maxSeconds: number },
  ) {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    const deadline = this.clock.now() + this.opts.maxSeconds;
    while (!this.stopped && this.clock.now() < deadline) {
      const t = this.clock.now();
      try {
        const res = await this.get('/-/healthy', { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.status !== 200) this.bad.push({ t, what: `HTTP ${res.status}` });
      } catch (err) {
        this.bad.push({ t, what: err instanceof Error ? err.message : String(err) });
      }
      this.checks++;
      await sleep(this.opts.periodMs);
    }
  }
}

// ---- a management path whose link can be cut ----------------------------------------------------

export interface ManagementPath {
  /** "127.0.0.1:<port>" reaching `mgmtAddress:<port>` through the cuttable link, per forwarded port. */
  readonly targets: ReadonlyMap<number, string>;
  /** The interface in the gateway's namespace that down() and up() switch. */
  readonly gatewayLink: string;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const MGMT_NET = { gateway: '203.0.113.130', station: '203.0.113.129', prefix: 30 };

/**
 * A management station namespace joined to the gateway's namespace by a veth pair (TEST-NET-3
 * 203.0.113.128/30), with a route to the gateway's management address over it, and loopback
 * forwards from the test process into the station. Taking the gateway's end of the pair down drops
 * packets silently both ways (no RST, no ICMP): established connections through it hang and new
 * ones never complete, as when a WAN link or firewall in between dies.
 */
export async function addManagementPath(opts: { gatewayNs: string; mgmtAddress: string; ports: number[]; logDir: string }): Promise<ManagementPath> {
  const ns = `${labPrefix('fd')}-mg`;
  const gatewayLink = 'mgmt0';
  const forwards: Daemon[] = [];
  const stop = async () => {
    for (const f of forwards) await f.stop();
    // Deleting the station namespace removes both ends of the veth pair.
    await deleteNamespace(ns);
  };
  try {
    await createNamespace(ns);
    await createVethPair(gatewayLink, 'uplink0', { nsA: opts.gatewayNs, nsB: ns });
    await addAddress(gatewayLink, `${MGMT_NET.gateway}/${MGMT_NET.prefix}`, opts.gatewayNs);
    await addAddress('uplink0', `${MGMT_NET.station}/${MGMT_NET.prefix}`, ns);
    await addRoute(`${opts.mgmtAddress}/32`, MGMT_NET.gateway, ns);
    // A pinned neighbour entry: with the link down, new connections then hang as old ones do, instead of
    // failing fast once ARP has given up (a race with the probe timeout that made the drill flaky).
    const mac = JSON.parse((await run('ip', ['-n', opts.gatewayNs, '-j', 'link', 'show', gatewayLink])).stdout)[0]?.address as string;
    await run('ip', ['-n', ns, 'neigh', 'replace', MGMT_NET.gateway, 'lladdr', mac, 'dev', 'uplink0', 'nud', 'permanent']);
    const targets = new Map<number, string>();
    for (const port of opts.ports) {
      const fwd = await forwardPortFromNs(ns, { host: opts.mgmtAddress, port }, join(opts.logDir, `mgmt-forward-${port}.log`));
      forwards.push(fwd.daemon);
      targets.set(port, `127.0.0.1:${fwd.port}`);
    }
    const link = (state: 'up' | 'down') => run('ip', ['-n', opts.gatewayNs, 'link', 'set', gatewayLink, state]).then(() => undefined);
    return { targets, gatewayLink, down: () => link('down'), up: () => link('up'), stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

// ---- one drill ----------------------------------------------------------------------------------

export interface DrillSpec {
  /** e.g. "VICI lab: charon SIGKILL". */
  name: string;
  inject: () => Promise<void>;
  restore: () => Promise<void>;
  /**
   * Seconds after the fault was injected from which every probe must fail. 0: the very first probe
   * that starts after the fault. (A dead OpenVPN server is only visible once its status file is
   * older than max_status_age.)
   */
  detectAfter?: (injectedAt: number) => number;
  /** Failed probes to watch after the first one before restoring (the outage holds). */
  holdProbes: number;
  /** A probe that hits the fault must end within this many seconds (its timeout plus slack), never hang. */
  maxFailSeconds: number;
  /** The reason of the first failed probe must match. */
  reason?: RegExp;
  /** Probes after the component is back within which one must succeed. */
  recoverWithin: number;
}

export interface DrillResult {
  spec: DrillSpec;
  /** The last two probes before the fault succeeded. */
  steady: boolean;
  injectStart: number;
  injected: number;
  detectFrom: number;
  /** The first probe started at or after detectFrom (it must have failed). */
  firstFail: ProbeRecord | undefined;
  /** The first failed probe started after the fault was in place (earlier than firstFail when detectAfter is generous). */
  firstFailAfterInject: ProbeRecord | undefined;
  /** Probes that ran between detectFrom and the restore and succeeded (must be none). */
  successesDuringOutage: ProbeRecord[];
  restoreStart: number;
  restored: number;
  recovery: ProbeRecord | undefined;
  /** Probes started after the restore, the successful one included. */
  probesToRecover: number;
  /** Human-readable sequence for t.diagnostic. */
  lines: string[];
}

/**
 * Waits for a steady target, injects the fault, watches the first failure and the outage hold,
 * removes the fault and watches the recovery. Asserting is left to the caller, so that every
 * result is recorded first.
 */
export async function runDrill(loop: ScrapeLoop, clock: DrillClock, spec: DrillSpec): Promise<DrillResult> {
  const steady = await loop.steady(2, 30_000);
  const injectStart = clock.now();
  await spec.inject();
  const injected = clock.now();
  const detectFrom = spec.detectAfter ? spec.detectAfter(injected) : injected;
  const firstFail = await loop.first(detectFrom, () => true, 30_000);
  // Watch the outage hold: `holdProbes` probes that started after it must have shown it.
  if (firstFail) {
    const held = () => loop.between(detectFrom, Infinity).length >= spec.holdProbes;
    await waitFor(`${spec.holdProbes} probes under the fault`, held, { timeoutMs: 30_000, intervalMs: 50 }).catch(() => undefined);
  }
  const restoreStart = clock.now();
  await spec.restore();
  const restored = clock.now();
  const recovery = await loop.first(restored, (r) => r.ok, 30_000);
  const after = loop.between(restored, recovery ? recovery.start + 0.001 : Infinity);
  // A probe still running when the restore began may rightly succeed; one that ended before may not.
  const successesDuringOutage = loop.between(detectFrom, restoreStart).filter((r) => r.ok && r.end < restoreStart);
  const result: DrillResult = {
    spec,
    steady,
    injectStart,
    injected,
    detectFrom,
    firstFail,
    firstFailAfterInject: loop.between(injected, Infinity).find((p) => !p.ok),
    successesDuringOutage,
    restoreStart,
    restored,
    recovery,
    probesToRecover: after.length,
    lines: [],
  };
  result.lines = describe(loop, result, clock);
  return result;
}

const s = (t: number) => `${t.toFixed(2)}s`;

function describe(loop: ScrapeLoop, r: DrillResult, clock: DrillClock): string[] {
  const out = [
    `=== ${r.spec.name} (loop "${loop.name}"; times in seconds since ${clock.wallOrigin.toISOString()})`,
    `  ${r.steady ? 'steady: the last 2 probes before the fault succeeded' : 'NOT steady before the fault'}`,
    `  ${s(r.injectStart)} inject … done ${s(r.injected)}${r.detectFrom > r.injected ? `; must show from ${s(r.detectFrom)}` : ''}`,
    `  ${s(r.restoreStart)} restore … done ${s(r.restored)}`,
  ];
  // Every probe from two before the fault to the recovery, runs of the same outcome folded.
  const before = loop.records.filter((p) => p.start < r.injectStart).slice(-2);
  const end = r.recovery ? r.recovery.start : Infinity;
  const window = [...before, ...loop.records.filter((p) => p.start >= r.injectStart && p.start <= end)];
  let i = 0;
  while (i < window.length) {
    const p = window[i] as ProbeRecord;
    let j = i + 1;
    while (j < window.length && window[j]?.ok === p.ok && window[j]?.reason === p.reason) j++;
    const run = window.slice(i, j);
    const last = run[run.length - 1] as ProbeRecord;
    const durations = run.map((q) => q.end - q.start);
    const span = run.length === 1 ? `#${p.n} ${s(p.start)}-${s(p.end)}` : `#${p.n}-#${last.n} ${s(p.start)}-${s(last.end)} (${run.length} probes)`;
    const took = `took ${Math.min(...durations).toFixed(2)}${run.length > 1 ? `-${Math.max(...durations).toFixed(2)}` : ''}s`;
    out.push(`  probe ${span} ${p.ok ? 'probe_success 1' : 'probe_success 0'}, ${took}${p.reason ? `: ${p.reason}` : ''}`);
    i = j;
  }
  const ff = r.firstFail;
  const what = r.detectFrom > r.injected ? `first probe from ${s(r.detectFrom)}` : 'first probe after the fault';
  out.push(
    `  => ${what}: #${ff?.n ?? '?'} ${ff ? (ff.ok ? 'SUCCEEDED (fault not seen)' : `failed after ${(ff.end - ff.start).toFixed(2)}s`) : 'none'}` +
      (ff ? `, its answer ${(ff.end - r.injected).toFixed(2)}s after the fault was in place` : ''),
  );
  const fa = r.firstFailAfterInject;
  if (fa && fa !== ff) out.push(`  => first failed probe: #${fa.n}, started ${(fa.start - r.injected).toFixed(2)}s after the fault was in place`);
  if (fa?.log?.length) out.push(`  => its log (debug=true):`, ...fa.log.map((l) => `       ${l}`));
  out.push(
    `  => recovered: ${r.recovery ? `probe #${r.recovery.n}, the ${ordinal(r.probesToRecover)} probe after the restore, ${(r.recovery.end - r.restored).toFixed(2)}s after it` : 'NO'}`,
  );
  return out;
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}
