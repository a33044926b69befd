// A real OpenVPN lab in network namespaces: one gateway with three servers and an sshd, five clients.
//
// Topology (per lab instance, all names carry a unique prefix):
//   <p>-lan   a bridge "br0" standing in for the internet, 192.0.2.0/24
//   <p>-gw    the gateway: eth0 192.0.2.1, management 203.0.113.1 on lo (sshd listens there)
//             servers udp (UDP 1194, status-version 3), tcp (TCP 1194, v2), v1 (UDP 1195, v1);
//             their PKI in three forms: udp absolute paths and crl-verify, tcp inline
//             <ca>/<cert>/<key>/<tls-crypt>, v1 `cd` into the PKI with relative paths, extra-certs and
//             tls-auth. Every key is world-readable, so only the prober's own restraint keeps it on the
//             gateway. Management interfaces the three ways OpenVPN offers: udp on 203.0.113.1:7505
//             with a password file, tcp on a unix socket (owned by the ssh user, as an operator would
//             hand it to a monitoring account), v1 on the namespace's own 127.0.0.1 without a password
//   <p>-alice1, <p>-alice2 (same certificate, duplicate-cn), <p>-bob on udp; <p>-carol on tcp; <p>-dave on v1
// The root namespace gets no lab address: socat forwards 127.0.0.1:<ephemeral> to the gateway's sshd.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOpenvpnStatus, type OpenvpnServerStatus } from '../../../src/vendors/openvpn/status.js';
import { startSshd } from '../../support/sshd.js';
import {
  buildOrTearDown,
  addAddress,
  attachToBridge,
  createBridge,
  createNamespace,
  createVethPair,
  deleteNamespace,
  forwardPortFromNs,
  labPrefix,
  runInNs,
  spawnDaemon,
  Teardown,
  type Daemon,
} from './netns.js';
import { waitFor } from '../../support/wait-for.js';
import { makePki, type Pki } from './openvpn-pki.js';

export type ServerName = 'udp' | 'tcp' | 'v1';

/** Where a server's management interface listens. */
type ManagementPlan = { tcp: string; port: number; password?: true } | { unix: string };

interface ServerPlan {
  proto: 'udp' | 'tcp-server';
  port: number;
  statusVersion: 1 | 2 | 3;
  /** The /26 the server hands out; the server itself takes .1 of it. */
  pool: string;
  tunnelAddress: string;
  management: ManagementPlan;
}

const SERVERS: Record<ServerName, ServerPlan> = {
  udp: {
    proto: 'udp',
    port: 1194,
    statusVersion: 3,
    pool: '198.51.100.0',
    tunnelAddress: '198.51.100.1',
    management: { tcp: '203.0.113.1', port: 7505, password: true },
  },
  tcp: { proto: 'tcp-server', port: 1194, statusVersion: 2, pool: '198.51.100.64', tunnelAddress: '198.51.100.65', management: { unix: 'tcp-mgmt.sock' } },
  v1: { proto: 'udp', port: 1195, statusVersion: 1, pool: '198.51.100.128', tunnelAddress: '198.51.100.129', management: { tcp: '127.0.0.1', port: 7507 } },
};
export const SERVER_NAMES = Object.keys(SERVERS) as ServerName[];

interface ClientPlan {
  name: string;
  commonName: string;
  server: ServerName;
  outside: string;
}

const CLIENTS: ClientPlan[] = [
  { name: 'alice1', commonName: 'alice', server: 'udp', outside: '192.0.2.11' },
  { name: 'alice2', commonName: 'alice', server: 'udp', outside: '192.0.2.12' },
  { name: 'bob', commonName: 'bob', server: 'udp', outside: '192.0.2.13' },
  { name: 'carol', commonName: 'carol', server: 'tcp', outside: '192.0.2.14' },
  { name: 'dave', commonName: 'dave', server: 'v1', outside: '192.0.2.15' },
];

const GW_OUTSIDE = '192.0.2.1';
const GW_MGMT = '203.0.113.1';
const SSH_USER = 'vpnx-ovpn-lab';
const START_TIMEOUT_MS = 20_000;
/** A UDP client notices a restarted server only when its ping-restart (pushed by keepalive) runs out. */
const RECONNECT_TIMEOUT_MS = 30_000;

export interface OpenvpnLab {
  /** Work directory with configs and logs (removed by stop()). */
  readonly dir: string;
  readonly gatewayNs: string;
  /** The gateway's sshd as "host:port", reachable from the test process. */
  readonly target: string;
  readonly sshUser: string;
  readonly privateKeyFile: string;
  /** A known_hosts file trusting the gateway's host key under `target`. */
  readonly knownHostsFile: string;
  readonly hostKeyFingerprint: string;
  readonly statusFiles: Readonly<Record<ServerName, string>>;
  /** Each server's configuration file. */
  readonly configFiles: Readonly<Record<ServerName, string>>;
  readonly pki: Pki;
  /** Every line of every private or static key the servers use (PEM armour excluded). */
  readonly gatewaySecrets: readonly string[];
  /** The udp server's management interface (203.0.113.1:7505), as "127.0.0.1:<port>" from the test process. */
  readonly managementTarget: string;
  /** Its password, and the file OpenVPN reads it from (0600, the test process is root). */
  readonly managementPassword: string;
  readonly managementPasswordFile: string;
  /** The tcp server's management socket on the gateway (owned by the ssh user). */
  readonly managementSocket: string;
  /** Common names connected to each server, with how many clients share each. */
  readonly expectedClients: Readonly<Record<ServerName, Readonly<Record<string, number>>>>;
  /** Sends one command to a server's management interface; returns the answer without the greeting. */
  management(server: ServerName, command: string): Promise<string>;
  /** SIGKILL a server: its status file stays behind and ages. */
  killServer(name: ServerName): Promise<void>;
  /** Starts a killed server and waits until its clients are back and its status file shows them. */
  startServer(name: ServerName): Promise<void>;
  killSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /** Log of a server ("udp"), a client ("alice1") or "sshd". */
  logTail(node: string, lines?: number): string;
  stop(): Promise<void>;
}

export async function startOpenvpnLab(): Promise<OpenvpnLab> {
  const prefix = labPrefix('ov');
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const teardown = new Teardown();
  teardown.add('work dir', () => rmSync(dir, { recursive: true, force: true }));
  return buildOrTearDown(teardown, () => build(prefix, dir, teardown));
}

async function build(prefix: string, dir: string, teardown: Teardown): Promise<OpenvpnLab> {
  // The ssh user reads status files below here.
  chmodSync(dir, 0o755);
  const statusDir = join(dir, 'status');
  mkdirSync(statusDir, { mode: 0o755 });
  const ns = (name: string) => `${prefix}-${name}`;
  const gwNs = ns('gw');
  const addNamespace = async (name: string) => {
    teardown.add(`namespace ${ns(name)}`, () => deleteNamespace(ns(name)));
    await createNamespace(ns(name));
  };

  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir);
  const [pki] = await settleAll([
    makePki(
      pkiDir,
      CLIENTS.map((c) => c.commonName),
    ),
    (async () => {
      await addNamespace('lan');
      await createBridge('br0', ns('lan'));
      const hosts = [{ name: 'gw', outside: GW_OUTSIDE }, ...CLIENTS.map((c) => ({ name: c.name, outside: c.outside }))];
      await Promise.all(
        hosts.map(async ({ name, outside }) => {
          await addNamespace(name);
          await createVethPair('eth0', `p-${name}`, { nsA: ns(name), nsB: ns('lan') });
          await attachToBridge(`p-${name}`, 'br0', ns('lan'));
          await addAddress('eth0', `${outside}/24`, ns(name));
        }),
      );
      await addAddress('lo', `${GW_MGMT}/32`, gwNs);
    })(),
  ]);

  const daemons = new Map<string, Daemon>();
  const logFile = (name: string) => join(dir, `${name}.log`);
  const statusFile = (name: ServerName) => join(statusDir, `${name}.status`);
  const startDaemon = (name: string, nsName: string, config: string) => {
    const path = join(dir, `${name}.conf`);
    writeFileSync(path, config);
    const daemon = spawnDaemon({ ns: nsName, command: 'openvpn', args: ['--config', path], logFile: logFile(name) });
    daemons.set(name, daemon);
    teardown.add(`openvpn ${name}`, () => daemon.stop());
    return daemon;
  };
  const mgmtDir = join(dir, 'mgmt');
  mkdirSync(mgmtDir, { mode: 0o755 });
  const managementPassword = `lab-mgmt-${randomBytes(9).toString('base64url')}`;
  const managementPasswordFile = join(mgmtDir, 'password');
  writeFileSync(managementPasswordFile, `${managementPassword}\n`, { mode: 0o600 });
  const managementSocket = join(mgmtDir, 'tcp-mgmt.sock');
  const managementAddress = (plan: ManagementPlan) => ('unix' in plan ? `UNIX-CONNECT:${join(mgmtDir, plan.unix)}` : `TCP:${plan.tcp}:${plan.port}`);
  const management = (server: ServerName, command: string) => {
    const daemon = daemons.get(server);
    if (!daemon?.isRunning()) return Promise.reject(new Error(`server ${server} is not running`));
    const plan = SERVERS[server].management;
    const password = 'password' in plan ? managementPassword : undefined;
    return managementExchange(gwNs, managementAddress(plan), command, password);
  };

  const expectedClients = Object.fromEntries(SERVER_NAMES.map((s) => [s, countBy(CLIENTS.filter((c) => c.server === s).map((c) => c.commonName))])) as Record<
    ServerName,
    Record<string, number>
  >;

  /** Polls `ready` while the server runs; a server that exits fails at once with its log, not at the timeout. */
  const whileServerRuns = async (name: ServerName, what: string, timeoutMs: number, ready: () => Promise<boolean>, more = () => '') => {
    const daemon = daemons.get(name);
    const outcome = await waitFor(what, async () => (daemon?.isRunning() ? (await ready()) && 'ready' : 'exited'), {
      timeoutMs,
      intervalMs: 100,
      describe: () => `--- ${name} ---\n${daemon?.logTail(25)}\n${more()}`,
    });
    if (outcome === 'exited') throw new Error(`server ${name} exited while waiting for ${what}:\n${daemon?.logTail(25)}`);
  };

  const waitManagement = (name: ServerName) =>
    whileServerRuns(name, `server ${name} to answer on its management interface`, START_TIMEOUT_MS, async () => {
      const plan = SERVERS[name].management;
      if ('unix' in plan) {
        const socket = join(mgmtDir, plan.unix);
        if (!existsSync(socket)) return false;
        // OpenVPN creates it by its umask, for root only; the operator hands it to the monitoring account.
        // The account comes with the sshd, which starts alongside.
        const uid = sshUid();
        if (uid === undefined) return false;
        chownSync(socket, uid, 0);
      }
      return /^SUCCESS: pid=/m.test(await management(name, 'pid'));
    });

  /** Until the daemon and its status file both show every expected client. */
  const waitServerReady = (name: ServerName, timeoutMs: number) => {
    const want = expectedClients[name];
    let last = '';
    return whileServerRuns(
      name,
      `server ${name} to show its clients ${JSON.stringify(want)} in management and status file`,
      timeoutMs,
      async () => {
        // Created 0600 at start (also on a restart, which truncates it); the mode then survives rewrites.
        if (existsSync(statusFile(name))) chmodSync(statusFile(name), 0o644);
        last = await management(name, 'status 2');
        if (!sameCounts(commonNames(parseOpenvpnStatus(last)), want)) return false;
        const fromFile = parseOpenvpnStatus(readFileSync(statusFile(name), 'utf8'));
        return sameCounts(commonNames(fromFile), want);
      },
      () => {
        const peers = CLIENTS.filter((c) => c.server === name).map((c) => `--- ${c.name} ---\n${daemons.get(c.name)?.logTail(8)}`);
        return [`--- last status 2 ---\n${last}`, ...peers].join('\n');
      },
    );
  };

  // Readable by the ssh user: reading one would leak it, which the tests check never happens.
  for (const key of [pki.server.key, pki.tlsAuthKey, pki.tlsCryptKey]) chmodSync(key, 0o644);
  const gatewaySecrets = [pki.server.key, pki.tlsAuthKey, pki.tlsCryptKey].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.startsWith('#')),
  );
  const launchServer = (name: ServerName) => startDaemon(name, gwNs, serverConfig(name, pki, statusFile(name), mgmtDir, managementPasswordFile));
  const sshdDir = join(dir, 'sshd');
  mkdirSync(sshdDir, { mode: 0o755 });
  for (const name of SERVER_NAMES) launchServer(name);
  // A UDP client's first packet lost to a server not yet listening costs a 2 s TLS retransmit.
  const [sshd] = await settleAll([
    // A stock gateway's session limit (MaxSessions 10), key-only login for one unprivileged user.
    startSshd({ ns: gwNs, dir: sshdDir, listen: [`${GW_MGMT}:22`], account: { name: SSH_USER }, maxSessions: 10 }),
    ...SERVER_NAMES.map((name) => waitManagement(name)),
  ]);
  for (const c of CLIENTS) startDaemon(c.name, ns(c.name), clientConfig(c, pki));
  await settleAll(SERVER_NAMES.map((name) => waitServerReady(name, START_TIMEOUT_MS)));
  await settleAll(CLIENTS.map((c) => sendTraffic(ns(c.name), SERVERS[c.server].tunnelAddress, daemons.get(c.name))));

  const fwd = await forwardPortFromNs(gwNs, { host: GW_MGMT, port: 22 }, join(dir, 'ssh-forward.log'));
  teardown.add('ssh forward', () => fwd.daemon.stop());
  const target = `127.0.0.1:${fwd.port}`;
  const udpMgmt = SERVERS.udp.management as { tcp: string; port: number };
  const mgmtFwd = await forwardPortFromNs(gwNs, { host: udpMgmt.tcp, port: udpMgmt.port }, join(dir, 'mgmt-forward.log'));
  teardown.add('management forward', () => mgmtFwd.daemon.stop());
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${fwd.port} ${sshd.hostPublicKey}\n`);

  let stopped = false;
  return {
    dir,
    gatewayNs: gwNs,
    target,
    sshUser: sshd.user,
    privateKeyFile: sshd.privateKeyFile,
    knownHostsFile,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    statusFiles: Object.fromEntries(SERVER_NAMES.map((s) => [s, statusFile(s)])) as Record<ServerName, string>,
    configFiles: Object.fromEntries(SERVER_NAMES.map((s) => [s, join(dir, `${s}.conf`)])) as Record<ServerName, string>,
    pki,
    gatewaySecrets,
    managementTarget: `127.0.0.1:${mgmtFwd.port}`,
    managementPassword,
    managementPasswordFile,
    managementSocket,
    expectedClients,
    management,
    async killServer(name) {
      const d = daemons.get(name);
      if (!d?.isRunning()) return;
      d.kill('SIGKILL');
      await d.exited;
    },
    async startServer(name) {
      if (daemons.get(name)?.isRunning()) throw new Error(`server ${name} is already running`);
      launchServer(name);
      await waitServerReady(name, RECONNECT_TIMEOUT_MS);
    },
    killSshd: () => sshd.kill(),
    startSshd: () => sshd.start(),
    logTail: (node, lines) => (node === 'sshd' ? sshd.logTail(lines) : (daemons.get(node)?.logTail(lines) ?? '')),
    async stop() {
      if (stopped) return;
      stopped = true;
      await teardown.run();
    },
  };
}

function serverConfig(name: ServerName, pki: Pki, statusFile: string, mgmtDir: string, passwordFile: string): string {
  const s = SERVERS[name];
  const m = s.management;
  const management = 'unix' in m ? `management ${join(mgmtDir, m.unix)} unix` : `management ${m.tcp} ${m.port}${m.password ? ` ${passwordFile}` : ''}`;
  return [
    `dev tun-${name}`,
    'dev-type tun',
    'topology subnet',
    `proto ${s.proto}`,
    `local ${GW_OUTSIDE}`,
    `port ${s.port}`,
    `server ${s.pool} 255.255.255.192`,
    // No DCO module in the lab kernel; EC certificates need no DH parameters.
    'disable-dco',
    'dh none',
    ...(name === 'udp' ? ['duplicate-cn'] : []),
    // Pings every second keep the event loop, and with it the status rewrites, ticking.
    'keepalive 1 10',
    ...serverPkiLines(name, pki),
    `status ${statusFile} 1`,
    `status-version ${s.statusVersion}`,
    management,
    'verb 3',
    '',
  ].join('\n');
}

/** The three ways the lab's servers name their PKI (see the header). */
function serverPkiLines(name: ServerName, pki: Pki): string[] {
  const inline = (tag: string, file: string) => `<${tag}>\n${readFileSync(file, 'utf8').trim()}\n</${tag}>`;
  const base = (file: string) => file.slice(pki.dir.length + 1);
  switch (name) {
    case 'udp':
      return [`ca ${pki.ca}`, `cert ${pki.server.cert}`, `key ${pki.server.key}`, `crl-verify ${pki.crl}`];
    case 'tcp':
      return [inline('ca', pki.ca), inline('cert', pki.server.cert), inline('key', pki.server.key), inline('tls-crypt', pki.tlsCryptKey)];
    case 'v1':
      return [
        `cd ${pki.dir}`,
        `ca ${base(pki.ca)}`,
        `cert ${base(pki.server.cert)}`,
        `key ${base(pki.server.key)}`,
        `extra-certs ${base(pki.ca)}`,
        `tls-auth ${base(pki.tlsAuthKey)} 0`,
      ];
  }
}

function clientConfig(c: ClientPlan, pki: Pki): string {
  const s = SERVERS[c.server];
  const cred = pki.clients.get(c.commonName);
  if (!cred) throw new Error(`no certificate for ${c.commonName}`);
  return [
    'client',
    'dev tun',
    `proto ${s.proto === 'udp' ? 'udp' : 'tcp-client'}`,
    `remote ${GW_OUTSIDE} ${s.port}`,
    'nobind',
    'disable-dco',
    'remote-cert-tls server',
    // A restarted TCP server is retried quickly rather than with the default back-off up to 300 s.
    'connect-retry 1 2',
    `ca ${pki.ca}`,
    `cert ${cred.cert}`,
    `key ${cred.key}`,
    ...(c.server === 'tcp' ? [`tls-crypt ${pki.tlsCryptKey}`] : c.server === 'v1' ? [`tls-auth ${pki.tlsAuthKey} 1`] : []),
    'verb 3',
    '',
  ].join('\n');
}

/**
 * Traffic both ways through the tunnel, proven to have arrived: a TCP connect to a closed port on the
 * server's tunnel address is refused only if the SYN went in and the RST came back (no ping here).
 */
async function sendTraffic(ns: string, address: string, daemon: Daemon | undefined): Promise<void> {
  await waitFor(
    `a round trip from ${ns} through its tunnel to ${address}`,
    async () => {
      const r = await runInNs(ns, 'socat', ['-u', 'OPEN:/dev/null', `TCP:${address}:9,connect-timeout=2`], {
        okExitCodes: [0, 1],
      });
      return /refused/i.test(r.stderr);
    },
    { timeoutMs: 10_000, describe: () => daemon?.logTail(15) ?? '' },
  );
}

/**
 * One management conversation: wait for the >INFO greeting, send the command, read until the answer ends
 * (END for listings, SUCCESS:/ERROR: for the rest). OpenVPN serves one management client at a time, so the
 * connection is closed right after.
 */
function managementExchange(ns: string, address: string, command: string, password: string | undefined, timeoutMs = 5000): Promise<string> {
  const port = address;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'socat', 'STDIO', address], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let sent = -1;
    let answered = false;
    let settled = false;
    const finish = (error: Error | undefined, answer = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      child.kill('SIGTERM');
      if (error) reject(error);
      else resolve(answer);
    };
    const timer = setTimeout(
      () => finish(new Error(`management ${port} in ${ns}: no complete answer to "${command}" within ${timeoutMs} ms:\n${out}${err}`)),
      timeoutMs,
    );
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (password !== undefined && !answered && out.includes('ENTER PASSWORD:')) {
        answered = true;
        child.stdin.write(`${password}\n`);
      }
      if (sent < 0 && /^>INFO:[^\n]*\n/m.test(out)) {
        sent = out.length;
        child.stdin.write(`${command}\n`);
      }
      if (sent < 0) return;
      const answer = out.slice(sent);
      if (/^(END|SUCCESS:.*|ERROR:.*)\r?$/m.test(answer)) {
        child.stdin.write('quit\n');
        finish(
          undefined,
          answer
            .split('\n')
            .filter((l) => !l.startsWith('>'))
            .join('\n'),
        );
      }
    });
    child.on('error', (e) => finish(e));
    child.on('close', (code) => finish(new Error(`management ${port} in ${ns} closed (exit ${code}):\n${out}${err}`)));
  });
}

/** Like Promise.all, but returns only once nothing is left running, so teardown never races a bring-up step. */
async function settleAll<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

function commonNames(status: ReturnType<typeof parseOpenvpnStatus>): Record<string, number> {
  if (status.format === 'client') throw new Error('expected a server status, got client statistics');
  return countBy((status as OpenvpnServerStatus).clients.map((c) => c.commonName));
}

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

function sameCounts(a: Record<string, number>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/** The ssh account's uid, once startSshd has made it. */
function sshUid(): number | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SSH_USER}:`));
  const uid = Number(line?.split(':')[2]);
  return line !== undefined && Number.isInteger(uid) ? uid : undefined;
}
