// A real WireGuard lab: wireguard-go (userspace, over TUN) in network namespaces, driven by
// wireguard-tools, and the gateway's sshd for the exporter.
//
// Topology (per lab instance, all names carry a unique prefix):
//   <p>-gw   the gateway: wg0 (UDP 51820, 198.51.100.1/26) with peers alice, bob and ghost;
//            wg1 (UDP 51821, 198.51.100.65/26) with peer carol; management 203.0.113.1 and
//            203.0.113.2 on lo: sshd for root on .1, sshd for the unprivileged account on .2
//   <p>-alice, <p>-bob, <p>-carol: one wireguard-go each, on a veth pair to the gateway
//            (192.0.2.1/30 <-> .2, .5 <-> .6, .9 <-> .10); ghost has no client and never shakes hands
// Each namespace has its own /run (a directory bind-mounted on /run in every process started
// there), because wireguard-go's control sockets live in /run/wireguard.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../support/sshd.js';
import { waitFor } from '../../support/wait-for.js';
import {
  buildOrTearDown,
  addAddress,
  createNamespace,
  createVethPair,
  deleteNamespace,
  forwardPortFromNs,
  labPrefix,
  run,
  runInNs,
  spawnDaemon,
  Teardown,
  type Daemon,
  type RunResult,
} from './netns.js';

export const SUDO_USER = 'vpnx-wg-lab';
/** A uid-0 login for the "as root" half of the lab. */
export const ROOT_USER = 'vpnx-wg-root';

interface ClientPlan {
  name: 'alice' | 'bob' | 'carol';
  iface: 'wg0' | 'wg1';
  gwSide: string;
  clientSide: string;
  tunnel: string;
}

const CLIENTS: ClientPlan[] = [
  { name: 'alice', iface: 'wg0', gwSide: '192.0.2.1', clientSide: '192.0.2.2', tunnel: '198.51.100.2' },
  { name: 'bob', iface: 'wg0', gwSide: '192.0.2.5', clientSide: '192.0.2.6', tunnel: '198.51.100.3' },
  { name: 'carol', iface: 'wg1', gwSide: '192.0.2.9', clientSide: '192.0.2.10', tunnel: '198.51.100.66' },
];
const SERVER = {
  wg0: { port: 51820, address: '198.51.100.1/26', ping: '198.51.100.1', net: '198.51.100.0/26' },
  wg1: { port: 51821, address: '198.51.100.65/26', ping: '198.51.100.65', net: '198.51.100.64/26' },
} as const;

export interface Keys {
  private: string;
  public: string;
}

export interface WireguardLab {
  readonly dir: string;
  /** The directory holding wg0.conf and wg1.conf, readable by root only. */
  readonly configDir: string;
  readonly rootTarget: string;
  readonly sudoTarget: string;
  readonly rootSshd: Sshd;
  readonly sudoSshd: Sshd;
  readonly knownHostsFile: string;
  /** Every private and preshared key of the gateway: none may reach the exporter. */
  readonly gatewaySecrets: string[];
  readonly publicKeys: Readonly<Record<'wg0' | 'wg1' | 'alice' | 'bob' | 'carol' | 'ghost', string>>;
  /** `wg show all dump` in the gateway namespace, now, unfiltered (keys included: for the test's eyes only). */
  wgDump(): Promise<string>;
  stop(): Promise<void>;
}

/** Runs a command in a namespace with that namespace's private /run mounted. */
function inNsRun(ns: string, runDir: string, command: string, opts?: { input?: string; okExitCodes?: number[] }): Promise<RunResult> {
  return runInNs(ns, 'sh', ['-c', `mount --bind ${runDir} /run && ${command}`], opts);
}

async function genKeys(): Promise<Keys> {
  const priv = (await run('wg', ['genkey'])).stdout.trim();
  const pub = (await run('wg', ['pubkey'], { input: `${priv}\n` })).stdout.trim();
  return { private: priv, public: pub };
}

export async function startWireguardLab(): Promise<WireguardLab> {
  const prefix = labPrefix('wg');
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const teardown = new Teardown();
  teardown.add('work dir', () => rmSync(dir, { recursive: true, force: true }));
  return buildOrTearDown(teardown, () => build(prefix, dir, teardown));
}

async function build(prefix: string, dir: string, teardown: Teardown): Promise<WireguardLab> {
  // sshd reads authorized_keys as the logged-in user.
  chmodSync(dir, 0o755);
  const ns = (name: string) => `${prefix}-${name}`;
  const gwNs = ns('gw');
  const runDirOf = (name: string) => {
    const d = join(dir, 'run', name);
    mkdirSync(join(d, 'sshd'), { recursive: true, mode: 0o755 });
    return d;
  };
  const configDir = join(dir, 'etc');
  mkdirSync(configDir, { mode: 0o700 });

  const names = ['gw', ...CLIENTS.map((c) => c.name)];
  await Promise.all(
    names.map(async (n) => {
      teardown.add(`namespace ${ns(n)}`, () => deleteNamespace(ns(n)));
      await createNamespace(ns(n));
    }),
  );
  await Promise.all(
    CLIENTS.map(async (c) => {
      await createVethPair(`v-${c.name}`, 'eth0', { nsA: gwNs, nsB: ns(c.name) });
      await addAddress(`v-${c.name}`, `${c.gwSide}/30`, gwNs);
      await addAddress('eth0', `${c.clientSide}/30`, ns(c.name));
    }),
  );
  await addAddress('lo', '203.0.113.1/32', gwNs);
  await addAddress('lo', '203.0.113.2/32', gwNs);

  const [wg0, wg1, alice, bob, carol, ghost] = await Promise.all([genKeys(), genKeys(), genKeys(), genKeys(), genKeys(), genKeys()]);
  const keys = { wg0, wg1, alice, bob, carol, ghost } as Record<string, Keys>;
  const psk = (await run('wg', ['genpsk'])).stdout.trim();

  const daemons: Daemon[] = [];
  const startWg = async (node: string, iface: string) => {
    const runDir = runDirOf(node);
    const daemon = spawnDaemon({
      ns: ns(node),
      command: 'wireguard-go',
      args: ['-f', iface],
      logFile: join(dir, `${node}-${iface}.log`),
      env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' },
      setup: `mount --bind ${runDir} /run`,
    });
    daemons.push(daemon);
    teardown.add(`wireguard-go ${node}/${iface}`, () => daemon.stop());
    await waitFor(
      `wireguard-go ${iface} in ${ns(node)}`,
      async () => {
        if (!daemon.isRunning()) throw new Error(`exited:\n${daemon.logTail(10)}`);
        return (await inNsRun(ns(node), runDir, `wg show ${iface} listen-port`, { okExitCodes: [0, 1] })).code === 0;
      },
      { timeoutMs: 10_000, intervalMs: 100, describe: () => daemon.logTail(10) },
    );
  };
  const configure = async (node: string, iface: string, conf: string, address: string) => {
    const file = join(dir, `${node}-${iface}.setconf`);
    writeFileSync(file, conf, { mode: 0o600 });
    await inNsRun(ns(node), runDirOf(node), `wg setconf ${iface} ${file} && ip addr add ${address} dev ${iface} && ip link set ${iface} up`);
  };

  // The gateway's files, as an admin would write them: name comments above and inside [Peer],
  // a PresharedKey for bob, a commented-out old private key; ghost and carol unnamed.
  const gwConf = {
    wg0: [
      '[Interface]',
      `PrivateKey = ${wg0.private}`,
      `ListenPort = ${SERVER.wg0.port}`,
      `#PrivateKey = ${ghost.private}`,
      '',
      '# Name = alice',
      '[Peer]',
      `PublicKey = ${alice.public}`,
      `AllowedIPs = 198.51.100.2/32, 203.0.113.16/28`,
      '',
      '[Peer]',
      '# friendly_name = bob',
      `PublicKey = ${bob.public}`,
      `PresharedKey = ${psk}`,
      'AllowedIPs = 198.51.100.3/32',
      'PersistentKeepalive = 15',
      '',
      '[Peer]',
      `PublicKey = ${ghost.public}`,
      'AllowedIPs = 198.51.100.4/32',
      '',
    ].join('\n'),
    wg1: [
      '[Interface]',
      `PrivateKey = ${wg1.private}`,
      `ListenPort = ${SERVER.wg1.port}`,
      '',
      '[Peer]',
      `PublicKey = ${carol.public}`,
      'AllowedIPs = 198.51.100.66/32',
      '',
    ].join('\n'),
  };
  for (const iface of ['wg0', 'wg1'] as const) {
    writeFileSync(join(configDir, `${iface}.conf`), gwConf[iface], { mode: 0o600 });
    await startWg('gw', iface);
    await configure('gw', iface, gwConf[iface], SERVER[iface].address);
  }
  await Promise.all(
    CLIENTS.map(async (c) => {
      await startWg(c.name, 'wg0');
      const conf = [
        '[Interface]',
        `PrivateKey = ${keys[c.name]?.private}`,
        '',
        '[Peer]',
        `PublicKey = ${keys[c.iface]?.public}`,
        ...(c.name === 'bob' ? [`PresharedKey = ${psk}`] : []),
        `Endpoint = ${c.gwSide}:${SERVER[c.iface].port}`,
        `AllowedIPs = ${SERVER[c.iface].net}`,
        ...(c.name === 'carol' ? ['PersistentKeepalive = 10'] : []),
        '',
      ].join('\n');
      await configure(c.name, 'wg0', conf, `${c.tunnel}/26`);
      // A datagram into the tunnel makes the handshake happen (bash's /dev/udp: no ping here).
      const clientKey = keys[c.name]?.public ?? '';
      await waitFor(
        `${c.name} to complete a handshake with the gateway's ${c.iface}`,
        async () => {
          await runInNs(ns(c.name), 'bash', ['-c', `echo hello > /dev/udp/${SERVER[c.iface].ping}/9`], { okExitCodes: [0, 1] });
          const hs = (await inNsRun(gwNs, runDirOf('gw'), `wg show ${c.iface} latest-handshakes`)).stdout;
          return hs.split('\n').some((l) => l.startsWith(`${clientKey}\t`) && !/\t0$/.test(l));
        },
        {
          timeoutMs: 30_000,
          intervalMs: 300,
          describe: async () =>
            (await inNsRun(ns(c.name), runDirOf(c.name), 'wg show', { okExitCodes: [0, 1] })).stdout +
            '\n--- gw ---\n' +
            (await inNsRun(gwNs, runDirOf('gw'), 'wg show')).stdout,
        },
      );
    }),
  );

  // The unprivileged account may run exactly the prober's commands as root.
  const sudoers = `/etc/sudoers.d/${prefix}`;
  const allowed = ['/usr/bin/wg show all dump', ...['wg0', 'wg1'].map((i) => `/usr/bin/cat -- ${join(configDir, `${i}.conf`)}`)];
  writeFileSync(sudoers, `${SUDO_USER} ALL=(root) NOPASSWD: ${allowed.join(', ')}\n`, { mode: 0o440 });
  teardown.add('sudoers', () => rmSync(sudoers, { force: true }));
  await run('visudo', ['-c', '-q', '-f', sudoers]);

  const gwRun = runDirOf('gw');
  const setup = `mount --bind ${gwRun} /run`;
  const rootDir = join(dir, 'sshd-root');
  const sudoDir = join(dir, 'sshd-sudo');
  mkdirSync(rootDir, { mode: 0o755 });
  mkdirSync(sudoDir, { mode: 0o755 });
  // Root's own shell may read startup files that print; a uid-0 account with /bin/sh reads none.
  const rootSshd = await startSshd({
    ns: gwNs,
    dir: rootDir,
    listen: ['203.0.113.1:22'],
    account: { name: ROOT_USER, uid0: true },
    setup: `${setup}\nmkdir -p /run/sshd`,
    maxSessions: 10,
  });
  teardown.add('sshd root', () => rootSshd.kill());
  const sudoSshd = await startSshd({
    ns: gwNs,
    dir: sudoDir,
    listen: ['203.0.113.2:22'],
    account: { name: SUDO_USER },
    setup: `${setup}\nmkdir -p /run/sshd`,
    maxSessions: 10,
  });
  teardown.add('sshd sudo', () => sudoSshd.kill());
  const fwdRoot = await forwardPortFromNs(gwNs, { host: '203.0.113.1', port: 22 }, join(dir, 'socat-root.log'));
  teardown.add('socat root', () => fwdRoot.daemon.stop());
  const fwdSudo = await forwardPortFromNs(gwNs, { host: '203.0.113.2', port: 22 }, join(dir, 'socat-sudo.log'));
  teardown.add('socat sudo', () => fwdSudo.daemon.stop());
  const rootTarget = `127.0.0.1:${fwdRoot.port}`;
  const sudoTarget = `127.0.0.1:${fwdSudo.port}`;
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${fwdRoot.port} ${rootSshd.hostPublicKey}\n[127.0.0.1]:${fwdSudo.port} ${sudoSshd.hostPublicKey}\n`);

  return {
    dir,
    configDir,
    rootTarget,
    sudoTarget,
    rootSshd,
    sudoSshd,
    knownHostsFile,
    gatewaySecrets: [wg0.private, wg1.private, ghost.private, psk],
    publicKeys: { wg0: wg0.public, wg1: wg1.public, alice: alice.public, bob: bob.public, carol: carol.public, ghost: ghost.public },
    wgDump: async () => (await inNsRun(gwNs, gwRun, 'wg show all dump')).stdout,
    stop: () => teardown.run(),
  };
}
