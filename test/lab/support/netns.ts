// Building blocks for test labs made of network namespaces and real daemons.
// Everything here shells out to iproute2/util-linux and needs root.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Exit codes treated as success; default [0]. */
  okExitCodes?: number[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs a command to completion; throws CommandError on a bad exit code or timeout. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const ok = opts.okExitCodes ?? [0];
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout also kills whatever the command forked.
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(`${cmd}: ${err.message}`, { code: -1, stdout, stderr }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: RunResult = { code: code ?? -1, stdout, stderr };
      const line = [cmd, ...args].join(' ');
      if (timedOut) {
        reject(new CommandError(`timed out after ${timeoutMs} ms: ${line}\n${tail(stderr || stdout)}`, result));
      } else if (code === null || !ok.includes(code)) {
        const why = code === null ? `signal ${signal}` : `exit ${code}`;
        reject(new CommandError(`${why}: ${line}\n${tail(stderr || stdout)}`, result));
      } else {
        resolve(result);
      }
    });
    if (child.stdin) {
      // A command may exit without reading its input; that is its business, not a crash of the test run.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Runs a command inside a namespace (network + fresh private mount namespace). */
export function runInNs(ns: string, cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Runs a command inside the network and mount namespaces of a live process (keeps its private mounts). */
export function runInProcessNs(pid: number, cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
  return run('nsenter', ['-t', String(pid), '-m', '-n', '--', cmd, ...args], opts);
}

/**
 * A short unique prefix for names of one lab instance. Interface names are capped at 15 characters,
 * so keep tag + suffix short: the prefix is tag + 5 random characters.
 */
export function labPrefix(tag: string): string {
  return tag + randomBytes(4).toString('hex').slice(0, 5);
}

export async function createNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await ipIn(name, ['link', 'set', 'lo', 'up']);
}

/** Kills every process left in the namespace, then deletes it. Missing namespaces are fine. */
export async function deleteNamespace(name: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', name], { okExitCodes: [0, 1, 255] });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Right after the kills the namespace can still be busy; retry until it is really gone.
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => {
      const _r = await run('ip', ['netns', 'del', name], { okExitCodes: [0, 1, 255] });
      return !(await namespaceExists(name));
    },
    { timeoutMs: 5000, intervalMs: 100 },
  );
}

async function namespaceExists(name: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout.split('\n').some((line) => line.split(' ')[0] === name);
}

/**
 * Creates a veth pair with each end born in its namespace (root namespace when omitted), so names only
 * need to be unique inside their own namespace, and sets both ends up.
 */
export async function createVethPair(a: string, b: string, where: { nsA?: string; nsB?: string } = {}): Promise<void> {
  const end = (name: string, ns?: string) => (ns ? [name, 'netns', ns] : [name]);
  await run('ip', ['link', 'add', ...end(a, where.nsA), 'type', 'veth', 'peer', 'name', ...end(b, where.nsB)]);
  await ipIn(where.nsA, ['link', 'set', a, 'up']);
  await ipIn(where.nsB, ['link', 'set', b, 'up']);
}

export async function createBridge(name: string, ns?: string): Promise<void> {
  await ipIn(ns, ['link', 'add', name, 'type', 'bridge']);
  await ipIn(ns, ['link', 'set', name, 'up']);
}

export async function attachToBridge(ifname: string, bridge: string, ns?: string): Promise<void> {
  await ipIn(ns, ['link', 'set', ifname, 'master', bridge]);
}

/** Adds an address in CIDR form, e.g. "192.0.2.1/24". Extra subnets belong on `lo` (no dummy interfaces here). */
export async function addAddress(ifname: string, cidr: string, ns?: string): Promise<void> {
  await ipIn(ns, ['addr', 'add', cidr, 'dev', ifname]);
}

export async function addRoute(dest: string, via: string, ns?: string): Promise<void> {
  await ipIn(ns, ['route', 'add', dest, 'via', via]);
}

/** Deletes a link; a missing link is fine (deleting one veth end removes its peer too). */
export async function deleteLink(ifname: string, ns?: string): Promise<void> {
  await ipIn(ns, ['link', 'del', ifname], { okExitCodes: [0, 1, 2, 255] });
}

function ipIn(ns: string | undefined, args: string[], opts?: RunOptions): Promise<RunResult> {
  return run('ip', ns ? ['-n', ns, ...args] : args, opts);
}

export interface DaemonOptions {
  /** Network namespace; the daemon also gets a private mount namespace there. Root namespace when omitted. */
  ns?: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Shell commands run just before exec, in the daemon's own mount namespace (e.g. bind mounts). */
  setup?: string;
}

export interface Daemon {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Signals the whole process group, e.g. SIGKILL to simulate a crash. */
  kill(signal: NodeJS.Signals): void;
  logTail(lines?: number): string;
  /** SIGTERM to the process group, SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running process (exec'd, so `pid` is the daemon itself) in its own process group. */
export function spawnDaemon(opts: DaemonOptions): Daemon {
  let argv = [opts.command, ...opts.args];
  if (opts.setup) argv = ['sh', '-c', `${opts.setup}\nexec "$0" "$@"`, ...argv];
  if (opts.ns) argv = ['ip', 'netns', 'exec', opts.ns, ...argv];
  const fd = openSync(opts.logFile, 'a');
  const [cmd, ...args] = argv as [string, ...string[]];
  const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let running = child.pid !== undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    child.on('error', () => {
      running = false;
      resolve({ code: -1, signal: null });
    });
  });
  const logTail = (lines = 40) => tailFile(opts.logFile, lines);
  return {
    pid: child.pid ?? -1,
    exited,
    isRunning: () => running,
    kill: (signal) => killGroup(child.pid, signal),
    logTail,
    async stop(graceMs = 3000) {
      if (!running) return;
      killGroup(child.pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        killGroup(child.pid, 'SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
    },
  };
}

/**
 * Makes a TCP port inside a namespace reachable from the root namespace at 127.0.0.1:<port>, without
 * giving the root namespace any lab address (concurrent labs would fight over routes).
 *
 * `noDelay`: TCP_NODELAY on both of the relay's sockets (the listener's is inherited by the accepted
 * one). Without it the relay adds a Nagle stall of its own (~40 ms, our delayed ACK) whenever an
 * answer comes in more than one write, which no real network path has; benchmarks of request/response
 * protocols want it.
 */
export async function forwardPortFromNs(
  ns: string,
  target: { host: string; port: number },
  logFile: string,
  opts: { noDelay?: boolean } = {},
): Promise<{ port: number; daemon: Daemon }> {
  let lastError = '';
  const nodelay = opts.noDelay ? ',nodelay' : '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const daemon = spawnDaemon({
      command: 'socat',
      args: [
        `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork${nodelay}`,
        `EXEC:nsenter --net=/run/netns/${ns} socat STDIO TCP\\:${target.host}\\:${target.port}${nodelay.replace(',', '\\,')},nofork`,
      ],
      logFile,
    });
    const listening = await waitFor(`socat on 127.0.0.1:${port}`, async () => !daemon.isRunning() || (await isListening(port)), {
      timeoutMs: 3000,
      intervalMs: 50,
    }).catch(() => false);
    if (daemon.isRunning() && listening) return { port, daemon };
    lastError = daemon.logTail(10);
    await daemon.stop();
  }
  throw new Error(`could not forward a loopback port into ${ns}:\n${lastError}`);
}

async function isListening(port: number): Promise<boolean> {
  const r = await run('ss', ['-Hltn', `sport = :${port}`], { okExitCodes: [0, 1] });
  return r.stdout.trim() !== '';
}

/**
 * Builds a lab whose undo steps go into `teardown`. If the build fails, the teardown runs
 * at once, so a failed start leaves no namespace or daemon behind; the build's error stays
 * on top, with the teardown's own failure appended.
 */
export async function buildOrTearDown<T>(teardown: Teardown, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    const cleanup = await teardown.run().then(
      () => '',
      (e: unknown) => `\n(${e instanceof Error ? e.message : String(e)})`,
    );
    if (err instanceof Error) err.message += cleanup;
    throw err;
  }
}

/** Collects cleanup steps and runs them newest first; every step runs even when earlier ones fail. */
export class Teardown {
  private readonly steps: { label: string; fn: () => unknown }[] = [];

  add(label: string, fn: () => unknown): void {
    this.steps.push({ label, fn });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.fn();
      } catch (err) {
        errors.push(`${step.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length > 0) throw new Error(`teardown failed:\n${errors.join('\n')}`);
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

function tailFile(path: string, lines: number): string {
  try {
    return tail(readFileSync(path, 'utf8'), lines);
  } catch {
    return `(no log at ${path})`;
  }
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
