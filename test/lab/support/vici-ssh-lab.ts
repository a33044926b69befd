// An OpenSSH sshd next to the unix-socket VICI gateway (support/strongswan-lab.ts startViciUnixLab): same
// network namespace and the gateway's private /run, so it sees charon's /var/run/charon.vici. One daemon,
// three ports, because sshd's Match LocalPort can change what a port allows:
//   open        stream-local forwarding allowed (OpenSSH's default)
//   noForward   AllowStreamLocalForwarding no
//   oneSession  MaxSessions 1: a bridge command per connection
// Two accounts log in with the same key: a uid-0 one (vpnx-lab-root, see stroke-ssh-lab.ts) and an
// unprivileged one that may run exactly one command as root, the socat bridge, as a sudoers line says.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd } from '../../support/sshd.js';
import { buildOrTearDown, forwardPortFromNs, run, Teardown } from './netns.js';
import { LAB_ROOT } from './stroke-ssh-lab.js';
import type { ViciUnixLab } from './strongswan-lab.js';

export const MONITOR_USER = 'vpnx-vici-mon';
const PORTS = { open: 22, noForward: 2222, oneSession: 2223 } as const;
const SUDOERS_FILE = '/etc/sudoers.d/vpnx-vici-lab';

export interface ViciSshGateway {
  /** "127.0.0.1:<port>" forwards from the test process's namespace to each sshd port. */
  readonly targets: Record<keyof typeof PORTS, string>;
  readonly rootUser: string;
  readonly monitorUser: string;
  /** The bridge the sudoers line names, as a module's socket_command. */
  readonly sudoBridge: string;
  readonly privateKeyFile: string;
  /** Names the host key under every target. */
  readonly knownHostsFile: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startViciSshGateway(lab: ViciUnixLab): Promise<ViciSshGateway> {
  const teardown = new Teardown();
  return buildOrTearDown(teardown, () => start(lab, teardown));
}

async function start(lab: ViciUnixLab, teardown: Teardown): Promise<ViciSshGateway> {
  const sudoBridge = `sudo -n socat STDIO UNIX-CONNECT:${lab.socket}`;
  // What a gateway needs, and all it needs: the one command, arguments included (sudoers wants ':' escaped).
  writeFileSync(SUDOERS_FILE, `${MONITOR_USER} ALL=(root) NOPASSWD: /usr/bin/socat STDIO UNIX-CONNECT\\:${lab.socket}\n`, { mode: 0o440 });
  teardown.add('sudoers line', () => rmSync(SUDOERS_FILE, { force: true }));
  await run('visudo', ['-c', '-q', '-f', SUDOERS_FILE]);

  const addr = lab.mgmtAddress;
  const sshd = await startSshd({
    ns: lab.gatewayNs,
    // The gateway's private /run, where charon's socket is; sshd insists on /run/sshd there.
    setup: `${lab.gatewaySetup}\nmkdir -p /run/sshd`,
    listen: Object.values(PORTS).map((port) => `${addr}:${port}`),
    account: { name: LAB_ROOT, uid0: true },
    extraAccounts: [{ name: MONITOR_USER }],
    maxSessions: 10,
    match: [`Match LocalPort ${PORTS.noForward}`, '  AllowStreamLocalForwarding no', `Match LocalPort ${PORTS.oneSession}`, '  MaxSessions 1'],
  });
  teardown.add('sshd', () => sshd.stop());

  const targets = {} as Record<keyof typeof PORTS, string>;
  const known: string[] = [];
  for (const [name, port] of Object.entries(PORTS) as [keyof typeof PORTS, number][]) {
    // Without Nagle, like a real path: the relay must not add stalls the exporter or ssh would not meet.
    const fwd = await forwardPortFromNs(lab.gatewayNs, { host: addr, port }, join(sshd.dir, `forward-${name}.log`), { noDelay: true });
    teardown.add(`forward ${name}`, () => fwd.daemon.stop());
    targets[name] = `127.0.0.1:${fwd.port}`;
    known.push(`[127.0.0.1]:${fwd.port} ${sshd.hostPublicKey}`);
  }
  const knownHostsFile = join(sshd.dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${known.join('\n')}\n`);
  return {
    targets,
    rootUser: LAB_ROOT,
    monitorUser: MONITOR_USER,
    sudoBridge,
    privateKeyFile: sshd.privateKeyFile,
    knownHostsFile,
    logTail: (lines) => sshd.logTail(lines),
    stop: () => teardown.run(),
  };
}
