import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mb, ratio } from './support/stats.js';

const run = promisify(execFile);

const WRK = '/usr/bin/wrk';
const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const CONNECTIONS = 8;
const LOAD_SECONDS = 10;
const STARTS = 7;

/**
 * The engine alone, side by side with blackbox_exporter in one run on this machine: both
 * answer `/probe` with a TCP connect that is refused (`probe_success 0`), so what is measured
 * is the HTTP server, the probe machinery and the exposition, not a gateway. wrk keeps 8
 * connections busy; each request names another of 1,000 loopback targets `127.0.X.Y:1`, so
 * neither our per-target limit nor single flight changes what is measured. Blackbox runs its
 * `tcp` prober; we run strongswan-vici-tcp, whose sessions are refused at connect.
 */
export async function benchEngine(): Promise<string[]> {
  const missing = [WRK, BLACKBOX].filter((bin) => !executable(bin));
  if (missing.length > 0) {
    return [`engine: skipped, ${missing.join(' and ')} not installed (Debian: apt-get install wrk prometheus-blackbox-exporter)`];
  }
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-bench-engine-'));
  try {
    const script = join(dir, 'targets.lua');
    writeFileSync(script, wrkScript());
    const ours: Contender = {
      name: 'vpn-exporter',
      module: 'refused',
      command: oursCommand(dir),
      check: (body) => (/^probe_failure_info\{reason="connection_refused"\} 1$/m.test(body) ? undefined : 'no reason connection_refused'),
    };
    const blackbox: Contender = { name: 'blackbox_exporter', module: 'tcp_refused', command: blackboxCommand(dir), check: () => undefined };

    const lines = [`engine: refused TCP targets, ${CONNECTIONS} connections (wrk), ${LOAD_SECONDS} s per run, 1,000 targets, one run on this machine`];
    // Interleaved, twice each, so a neighbour's burst of load hits both alike.
    const loads: Record<string, LoadFigures[]> = { ours: [], blackbox: [] };
    for (let round = 0; round < 2; round++) {
      loads.blackbox?.push(await measureLoad(blackbox, script));
      loads.ours?.push(await measureLoad(ours, script));
    }
    const startsBlackbox = await startUpSeconds(blackbox);
    const startsOurs = await startUpSeconds(ours);
    const best = (figures: LoadFigures[]) => figures.reduce((a, b) => (b.probesPerSecond > a.probesPerSecond ? b : a));
    const o = best(loads.ours ?? []);
    const b = best(loads.blackbox ?? []);
    const rows: [string, string, string, string][] = [
      ['probes/s', o.probesPerSecond.toFixed(0), b.probesPerSecond.toFixed(0), ratio(o.probesPerSecond, b.probesPerSecond)],
      ['  each run', runs(loads.ours, (f) => f.probesPerSecond.toFixed(0)), runs(loads.blackbox, (f) => f.probesPerSecond.toFixed(0)), ''],
      ['latency p50 / p99', `${o.p50Ms} / ${o.p99Ms} ms`, `${b.p50Ms} / ${b.p99Ms} ms`, ''],
      ['CPU per 1,000 probes', `${o.cpuPerThousand.toFixed(2)} s`, `${b.cpuPerThousand.toFixed(2)} s`, ratio(o.cpuPerThousand, b.cpuPerThousand)],
      ['RSS after the load', mb(o.rssAfter), mb(b.rssAfter), ratio(o.rssAfter, b.rssAfter)],
      [
        'start-up (spawn -> first HTTP answer), median',
        `${(startsOurs * 1000).toFixed(0)} ms`,
        `${(startsBlackbox * 1000).toFixed(0)} ms`,
        ratio(startsOurs, startsBlackbox),
      ],
    ];
    lines.push('| what | vpn-exporter | blackbox_exporter | ratio |', '|---|---|---|---|');
    for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
    lines.push(
      `  (best of ${loads.ours?.length} runs each; answers checked: ours probe_success 0 with reason connection_refused, blackbox probe_success 0; no non-2xx)`,
    );
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Contender {
  name: string;
  module: string;
  /** argv for a process listening on `port`. */
  command(port: number): string[];
  /** What else a probe of a refused target must answer, beside probe_success 0; undefined if it does. */
  check(body: string): string | undefined;
}

interface LoadFigures {
  probesPerSecond: number;
  p50Ms: string;
  p99Ms: string;
  cpuPerThousand: number;
  rssAfter: number;
}

function oursCommand(dir: string): (port: number) => string[] {
  const config = join(dir, 'modules.yaml');
  writeFileSync(
    config,
    `modules:
  refused:
    prober: strongswan-vici-tcp
    timeout: 5s
`,
  );
  // The built exporter as an operator runs it (npm start), default flags.
  return (port) => [process.execPath, 'dist/vpn-exporter.mjs', `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`];
}

function blackboxCommand(dir: string): (port: number) => string[] {
  const config = join(dir, 'blackbox.yml');
  writeFileSync(
    config,
    `modules:
  tcp_refused:
    prober: tcp
    timeout: 5s
`,
  );
  return (port) => [BLACKBOX, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`];
}

/** wrk's request generator: each request the next of 1,000 targets, module from the URL's query. */
function wrkScript(): string {
  return `local targets = {}
for x = 1, 4 do
  for y = 1, 250 do
    targets[#targets + 1] = string.format("127.0.%d.%d:1", x, y)
  end
end
local i = 0
local base = ""
init = function(args)
  base = args[1]
  -- Each of wrk's threads starts elsewhere in the list.
  i = math.random(#targets)
end
request = function()
  i = i % #targets + 1
  return wrk.format("GET", base .. targets[i])
end
`;
}

async function measureLoad(c: Contender, script: string): Promise<LoadFigures> {
  const p = await launch(c);
  try {
    await checkAnswers(c, p.url);
    const path = `/probe?module=${c.module}&target=`;
    // A short warm-up: JIT, sockets, the first GC cycles.
    await run(WRK, ['-t2', `-c${CONNECTIONS}`, '-d2s', '-s', script, p.url, '--', path], { maxBuffer: 1 << 20 });
    const cpu0 = cpuSeconds(p.pid);
    const { stdout } = await run(WRK, ['-t2', `-c${CONNECTIONS}`, `-d${LOAD_SECONDS}s`, '--latency', '-s', script, p.url, '--', path], {
      maxBuffer: 1 << 20,
    });
    const cpu = cpuSeconds(p.pid) - cpu0;
    const rssAfter = statusBytes(p.pid, 'VmRSS');
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
    const perSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
    const socketErrors = /Socket errors: (.*)/.exec(stdout);
    if (non2xx || socketErrors || !(requests > 0)) throw new Error(`${c.name} under load: ${stdout}`);
    await checkAnswers(c, p.url);
    return {
      probesPerSecond: perSecond,
      p50Ms: latency(stdout, '50%'),
      p99Ms: latency(stdout, '99%'),
      cpuPerThousand: (cpu / requests) * 1000,
      rssAfter,
    };
  } finally {
    await p.stop();
  }
}

function latency(wrkOut: string, pct: string): string {
  const m = new RegExp(`^\\s*${pct}\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(wrkOut);
  if (!m) return '?';
  const v = Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  return v < 10 ? v.toFixed(1) : v.toFixed(0);
}

async function checkAnswers(c: Contender, url: string): Promise<void> {
  for (const target of ['127.0.1.1:1', '127.0.4.250:1']) {
    const res = await fetch(`${url}/probe?module=${c.module}&target=${target}`);
    const body = await res.text();
    const wrong = res.status !== 200 ? `HTTP ${res.status}` : !/^probe_success 0$/m.test(body) ? 'no probe_success 0' : c.check(body);
    if (wrong) throw new Error(`${c.name}: ${target}: ${wrong}:\n${body.slice(0, 600)}`);
  }
}

/** Median of STARTS starts: spawn to the first 200 from /-/healthy. */
async function startUpSeconds(c: Contender): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const p = await launch(c);
    times.push(p.startSeconds);
    await p.stop();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

interface Launched {
  url: string;
  pid: number;
  startSeconds: number;
  stop(): Promise<void>;
}

async function launch(c: Contender): Promise<Launched> {
  const port = await freePort();
  const [bin, ...args] = c.command(port);
  const t0 = performance.now();
  const child: ChildProcess = spawn(bin as string, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${c.name} exited before answering`);
    if (performance.now() - t0 > 60_000) throw new Error(`${c.name} did not answer within 60 s`);
    const ok = await fetch(`${url}/-/healthy`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const startSeconds = (performance.now() - t0) / 1000;
  return {
    url,
    pid: child.pid as number,
    startSeconds,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function statusBytes(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runs(figures: LoadFigures[] | undefined, f: (x: LoadFigures) => string): string {
  return (figures ?? []).map(f).join(', ');
}
