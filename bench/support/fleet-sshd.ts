// Real OpenSSH sshd processes standing in for a share of the fleet: each one listens on up to 16
// loopback addresses (OpenSSH's MAX_LISTEN_SOCKS) with its own host key, so a few dozen processes
// serve hundreds of "gateways". A dedicated unprivileged account with /bin/sh logs in with a key
// only, as a monitoring account on a gateway would (root's dotfiles here start pyenv, which would
// make every exec cost ~80 ms of CPU and measure this machine rather than the exporter).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_LISTEN_ADDRESSES, startSshd, testKeyPair, type Sshd } from '../../test/support/sshd.js';
import { descendants } from '../../test/support/process-tree.js';

const FLEET_ACCOUNT = { name: 'vpnx-fleet' };

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
  // One monitoring key for the whole fleet, as one exporter module would use.
  const userKey = testKeyPair({ comment: 'vpnx-fleet-monitor' });
  const groups: string[][] = [];
  for (let i = 0; i < opts.hosts.length; i += MAX_LISTEN_ADDRESSES) groups.push(opts.hosts.slice(i, i + MAX_LISTEN_ADDRESSES));
  const started = await Promise.allSettled(
    groups.map((hosts, g) =>
      startSshd({
        listen: hosts.map((h) => `${h}:${opts.port}`),
        dir: join(opts.dir, `sshd_${g}`),
        account: FLEET_ACCOUNT,
        userKey,
        // A stock gateway's limit; INFO, since logging each connection would cost the measured sshd CPU.
        maxSessions: 10,
        logLevel: 'INFO',
      }),
    ),
  );
  const sshds = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(sshds.map((s) => s.stop()));
    throw failed.reason;
  }
  const knownHostsFile = join(opts.dir, 'known_hosts');
  const knownHosts = groups.flatMap((hosts, g) => hosts.map((h) => `${opts.port === 22 ? h : `[${h}]:${opts.port}`} ${(sshds[g] as Sshd).hostPublicKey}`));
  writeFileSync(knownHostsFile, `${knownHosts.join('\n')}\n`);
  const pids = sshds.map((s) => s.pid as number);
  return {
    user: FLEET_ACCOUNT.name,
    privateKeyFile: (sshds[0] as Sshd).privateKeyFile,
    knownHostsFile,
    pids,
    cpuSeconds: () => treeCpuSeconds(pids),
    processCount: () => pids.reduce((n, p) => n + descendants(p).length, 0),
    async stop() {
      await Promise.all(sshds.map((s) => s.stop()));
    },
  };
}

/**
 * A dead process's time moves into its parent's cutime/cstime when reaped, so summing
 * utime+stime+cutime+cstime over the live tree counts every process once.
 */
function treeCpuSeconds(roots: number[]): number {
  let ticks = 0;
  for (const root of roots) for (const pid of [root, ...descendants(root)]) ticks += cpuTicks(pid);
  return ticks / 100;
}

/** Own utime+stime plus that of the children it has reaped; 0 for a process gone meanwhile. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}
