// Fleet monitoring from one host: one exporter process, a thousand simulated gateways on distinct
// loopback addresses, a Prometheus-like driver scraping every target every 15 s. Then a ramp of the
// fleet size until probes fail or their latency leaves the scrape budget.
//
// Everything shares the machine's cores: the exporter, the simulated charons (one Node process), the
// sshd processes and the driver; each one's CPU is reported apart, and so is the rest of the machine.
//
// Environment (all optional):
//   FLEET_SECONDS=180            length of the main run (the first 15 s interval is the warm-up)
//   FLEET_TARGETS=1000           size of the main run
//   FLEET_POOL_SECONDS=60        length of the main size again with a large SSH pool (0 to skip)
//   FLEET_RAMP=2000,3000,4000,5000,6000  sizes tried next, stopping at the first that breaks ("" for none);
//                                a size that breaks with the default SSH pool is tried once more with a large one
//   FLEET_RAMP_SECONDS=45        length of each ramp step (the first interval of it is the warm-up)
//   FLEET_SSH_SHARE=0.15         share of targets that are openvpn-ssh gateways behind real sshd
//   FLEET_NET=200                second octet: VICI gateways on 127.N.x.y, SSH gateways on 127.(N+1).x.y
//   FLEET_TIMELINE=1             add a 5-second timeline to each run
//   FLEET_POOL=N                 --ssh.max-connections for the main run (and half of it as --probe.max-concurrency)
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetHosts } from './support/fleet-addresses.js';
import { drive, summarize, type FleetTarget, type ScrapeRecord, type Summary } from './support/fleet-driver.js';
import { startStatusFiles } from './support/fleet-openvpn.js';
import { startFleetSshd } from './support/fleet-sshd.js';
import type { FleetViciSpec } from './support/fleet-vici-server.js';
import { startExporterProcess, type ExporterProcess } from './support/exporter-process.js';
import { mb, percentile } from './support/stats.js';

const INTERVAL_MS = 15_000;
const SCRAPE_TIMEOUT_S = 10;
const VICI_PORT = 4502;
const SSH_PORT = 22;
/** main.ts creates its SSH transport with this pool size and no flag changes it. */
const DEFAULT_POOL = 1024;
/** What a --ssh.max-connections flag could be set to for comparison: more than any SSH share here. */
const LARGE_POOL = 4096;

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

interface PhaseOptions {
  targets: number;
  seconds: number;
  sshShare: number;
  /** Run the exporter with this SSH pool cap instead of main.ts's default. */
  poolMax?: number;
}

interface CpuSnapshot {
  at: number;
  exporter: number;
  vici: number;
  sshd: number;
  driver: number;
  machineBusy: number;
  machineTotal: number;
  listenOverflows: number;
  handshakes: Promise<number>;
}

interface PhaseResult {
  opts: PhaseOptions;
  vici: number;
  ssh: number;
  sshd: number;
  steady: Summary;
  steadyVici: Summary;
  steadySsh: Summary;
  warm: Summary;
  cores: { exporter: number; vici: number; sshd: number; driver: number; machine: number; others: number };
  peakRss: number;
  peakFds: number;
  fdLimit: number;
  sshdProcesses: number;
  handshakesPerSecond: number;
  /** Connections the kernel dropped because a listener's accept queue was full (machine-wide, whole run). */
  listenOverflows: number;
  reasons: [string, number][];
  windowSeconds: number;
  timeline?: string[];
}

interface TracePoint {
  t: number;
  cpu: number;
  fds: number;
  rss: number;
  wchan: string;
  healthyMs: number;
}

/** FLEET_TIMELINE=1 adds a 5-second timeline to each run's report (for finding where it breaks). */
const TIMELINE = process.env.FLEET_TIMELINE === '1';

function timeline(trace: TracePoint[], records: readonly ScrapeRecord[], traceShiftMs: number): string[] {
  const out = ['  timeline (5 s buckets by scheduled time): sent ok failed p99 | exporter cpu, fds, rss, /-/healthy max, kernel wait'];
  const end = Math.max(...records.map((r) => r.due));
  for (let from = 0; from <= end; from += 5000) {
    const inB = records.filter((r) => r.due >= from && r.due < from + 5000);
    const lat = inB.map((r) => r.latency / 1000).sort((a, b) => a - b);
    const pts = trace.filter((p) => p.t * 1000 + traceShiftMs >= from && p.t * 1000 + traceShiftMs < from + 5000);
    const avg = pts.reduce((a, p) => a + p.cpu, 0) / Math.max(1, pts.length);
    const waits = [...new Set(pts.map((p) => p.wchan || 'run'))].join(',');
    out.push(
      `    ${String(from / 1000).padStart(4)}s ${String(inB.length).padStart(5)} ${String(inB.filter((r) => r.ok).length).padStart(5)} ` +
        `${String(inB.filter((r) => !r.ok).length).padStart(5)} ${ms(percentile(lat, 99)).padStart(8)} | ` +
        `${avg.toFixed(2)} ${Math.max(0, ...pts.map((p) => p.fds))} ${mb(Math.max(0, ...pts.map((p) => p.rss)))} ` +
        `${ms(Math.max(0, ...pts.map((p) => p.healthyMs)) / 1000)} ${waits}`,
    );
  }
  return out;
}

export async function benchFleet(): Promise<string[]> {
  const sshShare = Number(env('FLEET_SSH_SHARE', '0.15'));
  const size = Number(env('FLEET_TARGETS', '1000'));
  const lines: string[] = [];
  const forcedPool = process.env.FLEET_POOL ? Number(process.env.FLEET_POOL) : undefined;
  const main = await runPhase({ targets: size, seconds: Number(env('FLEET_SECONDS', '180')), sshShare, poolMax: forcedPool });
  lines.push(...describe(main), `  goal (all ${size} every 15 s, no failed probe, p99 < 1 s, RSS < 300 MB): ${verdict(main)}`, '');

  const rows: PhaseResult[] = [main];
  const poolSeconds = Number(env('FLEET_POOL_SECONDS', '60'));
  if (poolSeconds > 0 && main.ssh > DEFAULT_POOL && forcedPool === undefined) {
    const big = await runPhase({ targets: size, seconds: poolSeconds, sshShare, poolMax: LARGE_POOL });
    rows.push(big);
    lines.push(...describe(big), '');
  }

  const ramp = env('FLEET_RAMP', '2000,3000,4000,5000,6000').split(',').filter(Boolean).map(Number);
  const rampSeconds = Number(env('FLEET_RAMP_SECONDS', '45'));
  for (const targets of ramp) {
    const step = await runPhase({ targets, seconds: rampSeconds, sshShare, poolMax: forcedPool });
    rows.push(step);
    lines.push(...describe(step), '');
    if (!broken(step)) continue;
    // Would the SSH pool flag move the limit? The same size once more with a pool for every SSH target.
    if (forcedPool === undefined && step.ssh > DEFAULT_POOL) {
      const big = await runPhase({ targets, seconds: rampSeconds, sshShare, poolMax: LARGE_POOL });
      rows.push(big);
      lines.push(...describe(big), '');
    }
    break;
  }
  lines.push('Summary (steady window of each run; "failed" includes the warm-up; cores of the 2):', table(rows));
  return lines;
}

function broken(r: PhaseResult): boolean {
  return r.steady.failed + r.warm.failed > 0 || r.steady.p99 > SCRAPE_TIMEOUT_S || r.steady.missedTargets > 0;
}

function verdict(r: PhaseResult): string {
  const misses: string[] = [];
  if (r.steady.missedTargets > 0) misses.push(`${r.steady.missedTargets} targets missed a scrape`);
  if (r.steady.failed + r.warm.failed > 0) misses.push(`${r.steady.failed + r.warm.failed} failed probes`);
  if (r.steady.p99 >= 1) misses.push(`p99 ${ms(r.steady.p99)}`);
  if (r.peakRss >= 300 * 1048576) misses.push(`RSS ${mb(r.peakRss)}`);
  return misses.length === 0 ? 'met' : `NOT met (${misses.join(', ')})`;
}

const ms = (s: number) => (s >= 10 ? `${s.toFixed(1)} s` : `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`);
const cores = (c: number) => `${c.toFixed(2)}`;

function describe(r: PhaseResult): string[] {
  const { opts, steady: s } = r;
  const pool = opts.poolMax ?? DEFAULT_POOL;
  const need = opts.targets / (INTERVAL_MS / 1000);
  const out = [
    `Fleet of ${opts.targets}: ${r.vici} VICI gateways (20-50 IKE_SAs each) + ${r.ssh} openvpn-ssh gateways on ${r.sshd} sshd; ` +
      `every target every 15 s for ${opts.seconds} s; SSH pool cap ${pool}${opts.poolMax ? ' (--ssh.max-connections)' : ' (the default)'}`,
    `  steady (${r.windowSeconds.toFixed(0)} s after the first interval): ${s.probes} probes, ${s.rate.toFixed(1)}/s answered OK ` +
      `(the fleet needs ${need.toFixed(1)}/s), failed ${s.failed}, targets short of a scrape ${s.missedTargets}`,
    `  latency p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}  |  VICI p50 ${ms(r.steadyVici.p50)} p99 ${ms(r.steadyVici.p99)}` +
      `  |  SSH p50 ${ms(r.steadySsh.p50)} p99 ${ms(r.steadySsh.p99)}  |  driver send lag p99 ${ms(s.lagP99)}`,
    `  answers: VICI ${(r.steadyVici.meanBytes / 1024).toFixed(1)} KiB, SSH ${(r.steadySsh.meanBytes / 1024).toFixed(1)} KiB on average ` +
      `(${((s.meanBytes * s.rate) / 1048576).toFixed(1)} MiB/s of exposition text)`,
    `  warm-up (first interval): ${r.warm.probes} probes, failed ${r.warm.failed}, p99 ${ms(r.warm.p99)}`,
    `  exporter: CPU ${cores(r.cores.exporter)} cores, peak RSS ${mb(r.peakRss)}, peak open fds ${r.peakFds} (limit ${r.fdLimit}), ` +
      `SSH handshakes ${r.handshakesPerSecond.toFixed(1)}/s; connections dropped at full accept queues (kernel, whole run) ${r.listenOverflows}`,
    `  same 2 cores: VICI simulator ${cores(r.cores.vici)}, sshd (${r.sshdProcesses} processes at the end) ${cores(r.cores.sshd)}, ` +
      `load driver ${cores(r.cores.driver)}, everything else on the machine ${cores(r.cores.others)}; machine busy ${cores(r.cores.machine)} of 2`,
  ];
  const failures = [...s.failures, ...r.warm.failures.map(([k, v]) => [`${k} (warm-up)`, v] as [string, number])];
  if (failures.length > 0) out.push(`  failed probes by driver category: ${failures.map(([k, v]) => `${v}x ${k}`).join('; ')}`);
  if (r.timeline) out.push(...r.timeline);
  if (r.reasons.length > 0) {
    out.push(`  exporter's reasons (its history, last <=100 failures):`);
    for (const [reason, n] of r.reasons.slice(0, 6)) out.push(`    ${n}x ${reason}`);
  }
  return out;
}

function table(rows: PhaseResult[]): string {
  const head =
    '  targets  pool  probes/s  need/s  failed   p50      p99      exporter  VICI-sim  sshd   driver  others  RSS       handshakes/s  accept-q drops';
  const body = rows.map((r) =>
    [
      String(r.opts.targets).padStart(9),
      String(r.opts.poolMax ?? DEFAULT_POOL).padStart(5),
      r.steady.rate.toFixed(1).padStart(9),
      (r.opts.targets / 15).toFixed(1).padStart(7),
      String(r.steady.failed + r.warm.failed).padStart(7),
      ms(r.steady.p50).padStart(8),
      ms(r.steady.p99).padStart(8),
      cores(r.cores.exporter).padStart(9),
      cores(r.cores.vici).padStart(9),
      cores(r.cores.sshd).padStart(6),
      cores(r.cores.driver).padStart(7),
      cores(r.cores.others).padStart(7),
      mb(r.peakRss).padStart(9),
      r.handshakesPerSecond.toFixed(1).padStart(13),
      String(r.listenOverflows).padStart(15),
    ].join(' '),
  );
  return [head, ...body].join('\n');
}

async function runPhase(opts: PhaseOptions): Promise<PhaseResult> {
  const net = Number(env('FLEET_NET', '200'));
  const sshCount = Math.round(opts.targets * opts.sshShare);
  const viciCount = opts.targets - sshCount;
  // SSH gateways spread evenly through the schedule, as hashing spreads Prometheus' targets.
  const isSsh = (t: number) => Math.floor(((t + 1) * sshCount) / opts.targets) > Math.floor((t * sshCount) / opts.targets);
  const viciHosts = fleetHosts(0, viciCount, net);
  const sshHosts = fleetHosts(0, sshCount, net + 1);
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-fleet-'));
  // The gateways' monitoring account reads the status files below it.
  chmodSync(dir, 0o755);
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const viciSpec: FleetViciSpec = { first: 0, count: viciCount, net, port: VICI_PORT, minSas: 20, maxSas: 50 };
    const vici = await startViciFleet(viciSpec);
    cleanup.push(() => vici.stop());
    const status = startStatusFiles(dir, 40, 12);
    cleanup.push(() => status.stop());
    const sshd = await startFleetSshd({ hosts: sshHosts, port: SSH_PORT, dir: join(dir, 'sshd') });
    cleanup.push(() => sshd.stop());
    const q = JSON.stringify;
    const yaml = [
      'modules:',
      '  vici:',
      '    prober: strongswan-vici-tcp',
      `    timeout: ${SCRAPE_TIMEOUT_S}s`,
      '  ovpn:',
      '    prober: openvpn-ssh',
      `    timeout: ${SCRAPE_TIMEOUT_S}s`,
      '    ssh:',
      `      username: ${sshd.user}`,
      `      private_key: {file: ${q(sshd.privateKeyFile)}}`,
      `      known_hosts: ${q(sshd.knownHostsFile)}`,
      '    status_files:',
      ...status.files.map((f) => `      - {name: ${f.name}, path: ${q(f.path)}}`),
      '',
    ].join('\n');
    const exporter: ExporterProcess =
      opts.poolMax === undefined
        ? await startExporterProcess(yaml)
        : await startExporterProcess(yaml, [`--ssh.max-connections=${opts.poolMax}`, `--probe.max-concurrency=${Math.max(1, Math.floor(opts.poolMax / 2))}`]);
    cleanup.push(() => exporter.stop());

    let vi = 0;
    let si = 0;
    const targets: FleetTarget[] = Array.from({ length: opts.targets }, (_, t) =>
      isSsh(t) ? { kind: 'ssh', module: 'ovpn', target: sshHosts[si++] as string } : { kind: 'vici', module: 'vici', target: viciHosts[vi++] as string },
    );

    const fdLimit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${exporter.pid}/limits`, 'utf8'))?.[1] ?? NaN);
    let peakFds = 0;
    const trace: TracePoint[] = [];
    const traceOrigin = performance.now();
    let lastCpu = exporter.cpuSeconds();
    const sampler = setInterval(() => {
      try {
        const fds = readdirSync(`/proc/${exporter.pid}/fd`).length;
        peakFds = Math.max(peakFds, fds);
        if (!TIMELINE) return;
        const cpu = exporter.cpuSeconds();
        const point: TracePoint = {
          t: (performance.now() - traceOrigin) / 1000,
          cpu: (cpu - lastCpu) / 0.5,
          fds,
          rss: exporter.rss().current,
          wchan: readFileSync(`/proc/${exporter.pid}/wchan`, 'utf8'),
          healthyMs: NaN,
        };
        lastCpu = cpu;
        trace.push(point);
        const t0 = performance.now();
        fetch(`${exporter.url}/-/healthy`, { signal: AbortSignal.timeout(5000) }).then(
          () => (point.healthyMs = performance.now() - t0),
          () => (point.healthyMs = Infinity),
        );
      } catch {
        // The exporter is stopping.
      }
    }, 500);
    cleanup.push(() => clearInterval(sampler));

    const snapshot = (): CpuSnapshot => {
      const machine = machineCpu();
      const used = process.cpuUsage();
      return {
        at: performance.now(),
        exporter: exporter.cpuSeconds(),
        vici: vici.cpuSeconds(),
        sshd: sshd.cpuSeconds(),
        driver: (used.user + used.system) / 1e6,
        machineBusy: machine.busy,
        machineTotal: machine.total,
        listenOverflows: listenOverflows(),
        handshakes: handshakes(exporter.url),
      };
    };
    exporter.resetPeak();
    const overflowsBefore = listenOverflows();
    let first: CpuSnapshot | undefined;
    const run = await drive({
      url: exporter.url,
      targets,
      intervalMs: INTERVAL_MS,
      durationMs: opts.seconds * 1000,
      scrapeTimeoutSeconds: SCRAPE_TIMEOUT_S,
      mark: { atMs: INTERVAL_MS, fn: () => (first = snapshot()) },
    });
    const last = snapshot();
    const start = first ?? last;
    const wall = (last.at - start.at) / 1000;
    const ncpu = 2;
    const machine = ((last.machineBusy - start.machineBusy) / Math.max(1, last.machineTotal - start.machineTotal)) * ncpu;
    const c = {
      exporter: (last.exporter - start.exporter) / wall,
      vici: (last.vici - start.vici) / wall,
      sshd: (last.sshd - start.sshd) / wall,
      driver: (last.driver - start.driver) / wall,
      machine,
      others: 0,
    };
    c.others = Math.max(0, machine - c.exporter - c.vici - c.sshd - c.driver);
    const kindOf = (kind: string) => (t: number) => targets[t]?.kind === kind;
    const sum = (from: number, to: number, kind?: (t: number) => boolean) =>
      summarize(run.records, from, to, { targets: opts.targets, intervalMs: INTERVAL_MS, kind });
    const end = opts.seconds * 1000;
    const result: PhaseResult = {
      opts,
      vici: viciCount,
      ssh: sshCount,
      sshd: sshd.pids.length,
      steady: sum(INTERVAL_MS, end),
      steadyVici: sum(INTERVAL_MS, end, kindOf('vici')),
      steadySsh: sum(INTERVAL_MS, end, kindOf('ssh')),
      warm: sum(0, INTERVAL_MS),
      cores: c,
      peakRss: exporter.rss().peak,
      peakFds,
      fdLimit,
      sshdProcesses: sshd.processCount(),
      handshakesPerSecond: ((await last.handshakes) - (await start.handshakes)) / wall,
      listenOverflows: last.listenOverflows - overflowsBefore,
      reasons: await failureReasons(exporter.url),
      windowSeconds: wall,
    };
    if (TIMELINE) result.timeline = timeline(trace, run.records, traceOrigin - run.origin);
    return result;
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}

/** The exporter's own count of SSH handshakes since it started. */
async function handshakes(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^vpn_exporter_ssh_handshakes_total (\S+)$/m.exec(text)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Failure reasons from the exporter's history page (it keeps failures over successes), addresses folded. */
async function failureReasons(url: string): Promise<[string, number][]> {
  const html = await (await fetch(`${url}/history`)).text();
  const counts = new Map<string, number>();
  for (const m of html.matchAll(/<span class="detail">([^<]*)<\/span>/g)) {
    const reason = unescapeHtml(m[1] ?? '').replace(/127\.\d+\.\d+\.\d+/g, '127.x.y.z');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** TcpExt ListenOverflows: SYNs or handshakes dropped because an accept queue was full. */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? NaN);
}

function machineCpu(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

interface ViciFleet {
  pid: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The simulated charons, in a process of their own so that their CPU is counted apart. */
async function startViciFleet(spec: FleetViciSpec): Promise<ViciFleet> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/support/fleet-vici-server.ts', JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`VICI fleet did not start: ${err}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready \d+$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`VICI fleet exited with ${code}: ${err}`));
    });
  });
  const pid = child.pid as number;
  return {
    pid,
    cpuSeconds: () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(f[11]) + Number(f[12])) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// `node --import tsx bench/fleet.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${(await benchFleet()).join('\n')}\n`);
}
