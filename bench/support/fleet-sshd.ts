// Real OpenSSH sshd processes standing in for a share of the fleet: each one listens on up to 16
// loopback addresses (OpenSSH's MAX_LISTEN_SOCKS) with its own host key, so a few dozen processes
// serve hundreds of "gateways". A dedicated unprivileged account with /bin/sh logs in with a key
// only, as a monitoring account on a gateway would (root's dotfiles here start pyenv, which would
// make every exec cost ~80 ms of CPU and measure this machine rather than the exporter).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { testKeyPair } from '../../test/support/sshd.js';

/** sshd refuses more ListenAddress sockets than this (MAX_LISTEN_SOCKS in OpenSSH 9.2). */
export const ADDRESSES_PER_SSHD = 16;

const FLEET_USER = 'vpnx-fleet';
const run = promisify(execFile);

export interface FleetSshd {
  user: string;
  privateKeyFile: string;
  knownHostsFile: string;
  /** The listener processes (one per group of addresses). */
  pids: number[];
  /** CPU seconds used so far by every sshd process, listeners and per-connection children, dead or alive. */
  cpuSeconds(): number;
  /** Processes under the listeners right now (two or so per open SSH connection). */
  processCount(): number;
  stop(): Promise<void>;
}

export async function startFleetSshd(opts: { hosts: string[]; port: number; dir: string }): Promise<FleetSshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  await ensureUser();
  // sshd reads authorized_keys as the user; the user reads nothing else here.
  mkdirSync(opts.dir, { recursive: true, mode: 0o755 });
  const user = testKeyPair({ comment: 'vpnx-fleet-monitor' });
  const privateKeyFile = join(opts.dir, 'id_ed25519');
  writeFileSync(privateKeyFile, user.private, { mode: 0o600 });
  const authorizedKeys = join(opts.dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `${user.public}\n`, { mode: 0o644 });

  const knownHosts: string[] = [];
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) killTree(c.pid);
  };
  // A bench that dies half-way must not leave sshds listening.
  process.once('exit', stopAll);
  try {
    const groups: string[][] = [];
    for (let i = 0; i < opts.hosts.length; i += ADDRESSES_PER_SSHD) groups.push(opts.hosts.slice(i, i + ADDRESSES_PER_SSHD));
    await Promise.all(
      groups.map(async (hosts, g) => {
        const hostKey = testKeyPair({ comment: `vpnx-fleet-gw-${g}` });
        const [type, b64] = hostKey.public.split(' ');
        const keyFile = join(opts.dir, `host_key_${g}`);
        writeFileSync(keyFile, hostKey.private, { mode: 0o600 });
        for (const h of hosts) knownHosts.push(`${opts.port === 22 ? h : `[${h}]:${opts.port}`} ${type} ${b64}`);
        const config = join(opts.dir, `sshd_config_${g}`);
        writeFileSync(config, sshdConfig(hosts, opts.port, keyFile, authorizedKeys));
        const log = join(opts.dir, `sshd_${g}.log`);
        const fd = openSync(log, 'a');
        const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', fd] });
        closeSync(fd);
        children.push(child);
        await waitListening(child, log);
      }),
    );
  } catch (err) {
    stopAll();
    throw err;
  }
  const knownHostsFile = join(opts.dir, 'known_hosts');
  writeFileSync(knownHostsFile, knownHosts.join('\n') + '\n');
  const pids = children.map((c) => c.pid as number);
  return {
    user: FLEET_USER,
    privateKeyFile,
    knownHostsFile,
    pids,
    cpuSeconds: () => treeCpuSeconds(pids),
    processCount: () => {
      const tree = processTable();
      return pids.reduce((n, p) => n + descendants(tree, p).length, 0);
    },
    async stop() {
      process.removeListener('exit', stopAll);
      const exited = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()))));
      stopAll();
      await Promise.race([Promise.all(exited), sleep(5000)]);
    },
  };
}

function sshdConfig(hosts: string[], port: number, hostKey: string, authorizedKeys: string): string {
  return [
    ...hosts.map((h) => `ListenAddress ${h}:${port}`),
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `AllowUsers ${FLEET_USER}`,
    'PermitRootLogin no',
    'PidFile none',
    'UsePAM no',
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    // The exporter may (re)connect to many of this process's addresses at once.
    'MaxStartups 1000',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/**
 * The account once: `useradd` leaves it locked ("!"), which sshd refuses without PAM even for keys;
 * "*" allows key logins while no password can match. Other tests edit /etc/passwd at the same time.
 */
async function ensureUser(): Promise<void> {
  const retry = async (args: string[], cmd: string) => {
    for (let i = 0; ; i++) {
      try {
        return await run(cmd, args);
      } catch (err) {
        const stderr = String((err as { stderr?: string }).stderr ?? '');
        if (/already exists/.test(stderr)) return undefined;
        if (i >= 30 || !/lock/i.test(stderr)) throw err;
        await sleep(100);
      }
    }
  };
  const shadow = await run('getent', ['shadow', FLEET_USER]).then((r) => r.stdout, () => '');
  if (shadow === '') await retry(['-M', '-d', '/', '-s', '/bin/sh', FLEET_USER], 'useradd');
  const now = await run('getent', ['shadow', FLEET_USER]).then((r) => r.stdout, () => '');
  if (now.split(':')[1] !== '*') await retry(['-p', '*', FLEET_USER], 'usermod');
}

async function waitListening(child: ChildProcess, log: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const text = readFileSync(log, 'utf8');
    if (text.includes('Server listening on')) return;
    if (child.exitCode !== null || Date.now() > until) {
      throw new Error(`sshd did not start (exit ${child.exitCode}):\n${text.slice(-2000)}`);
    }
    await sleep(50);
  }
}

type ProcessTable = Map<number, { ppid: number; ticks: number }>;

/** pid -> parent and CPU ticks (own utime+stime plus that of children it has reaped). */
function processTable(): ProcessTable {
  const table: ProcessTable = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
      table.set(Number(entry), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // Gone while we looked.
    }
  }
  return table;
}

function descendants(table: ProcessTable, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/**
 * A dead process's time moves into its parent's cutime/cstime when reaped, so summing
 * utime+stime+cutime+cstime over the live tree counts every process once.
 */
export function treeCpuSeconds(roots: number[]): number {
  const table = processTable();
  let ticks = 0;
  for (const root of roots) {
    for (const pid of [root, ...descendants(table, root)]) ticks += table.get(pid)?.ticks ?? 0;
  }
  return ticks / 100;
}

function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  const table = processTable();
  for (const p of descendants(table, pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}
