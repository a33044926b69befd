/**
 * Captures real OpenVPN status files for test/fixtures/openvpn/. Not a test:
 * run by hand as root when the fixtures need refreshing:
 *
 *   node --import tsx test/lab/capture-openvpn-fixtures.ts [outDir]
 *
 * Three servers (status-version 1, 2 and 3) run in one namespace, nine clients
 * in another; two clients per server share the certificate of `alice`
 * (duplicate-cn) so the parsers see a repeated common name. Only TEST-NET
 * addresses are used and everything is torn down on exit.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait-for.js';

const SERVER_NS = 'pzovs';
const CLIENT_NS = 'pzovc';
const outDir = resolve(process.argv[2] ?? 'test/fixtures/openvpn');
const work = mkdtempSync('/tmp/pz-ovpn-');

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const inNs = (ns: string, cmd: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, cmd, ...args]);

function makeCerts(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', `${work}/ca.key`, '-out', `${work}/ca.crt`, '-subj', '/CN=pz-lab-ca', '-days', '2']);
  for (const [name, eku] of [
    ['server', 'serverAuth'],
    ['alice', 'clientAuth'],
    ['bob', 'clientAuth'],
  ] as const) {
    writeFileSync(`${work}/${name}.ext`, `extendedKeyUsage=${eku}\nkeyUsage=digitalSignature\n`);
    run('openssl', ['req', '-new', ...ec, '-keyout', `${work}/${name}.key`, '-out', `${work}/${name}.csr`, '-subj', `/CN=${name}`]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      `${work}/${name}.csr`,
      '-CA',
      `${work}/ca.crt`,
      '-CAkey',
      `${work}/ca.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${work}/${name}.ext`,
      '-out',
      `${work}/${name}.crt`,
    ]);
  }
}

function makeNetwork(): void {
  run('ip', ['netns', 'add', SERVER_NS]);
  run('ip', ['netns', 'add', CLIENT_NS]);
  run('ip', ['link', 'add', 'pzovs0', 'netns', SERVER_NS, 'type', 'veth', 'peer', 'name', 'pzovc0', 'netns', CLIENT_NS]);
  inNs(SERVER_NS, 'ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'pzovs0');
  inNs(CLIENT_NS, 'ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'pzovc0');
  for (const [ns, dev] of [
    [SERVER_NS, 'pzovs0'],
    [CLIENT_NS, 'pzovc0'],
  ] as const) {
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    inNs(ns, 'ip', 'link', 'set', dev, 'up');
  }
}

interface ServerSpec {
  id: number;
  version: 1 | 2 | 3;
  proto: 'udp' | 'tcp-server';
  port: number;
  net: string;
  auth: boolean;
}
const servers: ServerSpec[] = [
  { id: 1, version: 1, proto: 'udp', port: 1194, net: '198.51.100.0', auth: false },
  { id: 2, version: 2, proto: 'udp', port: 1195, net: '198.51.100.64', auth: true },
  { id: 3, version: 3, proto: 'tcp-server', port: 1196, net: '198.51.100.128', auth: false },
];

function startServer(s: ServerSpec): void {
  const lines = [
    `dev pzs${s.id}`,
    'dev-type tun',
    'topology subnet',
    `proto ${s.proto}`,
    `port ${s.port}`,
    'local 192.0.2.1',
    `server ${s.net} 255.255.255.192`,
    'disable-dco',
    'dh none',
    'duplicate-cn',
    'keepalive 2 20',
    `ca ${work}/ca.crt`,
    `cert ${work}/server.crt`,
    `key ${work}/server.key`,
    `status ${work}/s${s.id}.status 1`,
    `status-version ${s.version}`,
    `writepid ${work}/s${s.id}.pid`,
    `log ${work}/s${s.id}.log`,
    'verb 3',
    'daemon',
  ];
  if (s.auth) {
    // Accept any password so usernames appear in the status file; bob sends none.
    lines.push(
      'script-security 2',
      'auth-user-pass-verify /bin/true via-file',
      'auth-user-pass-optional',
      `client-config-dir ${work}/ccd`,
      'route 203.0.113.0 255.255.255.0',
    );
    run('mkdir', ['-p', `${work}/ccd`]);
    writeFileSync(`${work}/ccd/bob`, 'iroute 203.0.113.0 255.255.255.0\n');
  }
  writeFileSync(`${work}/s${s.id}.conf`, `${lines.join('\n')}\n`);
  inNs(SERVER_NS, 'openvpn', '--config', `${work}/s${s.id}.conf`);
}

interface ClientSpec {
  name: string;
  cert: 'alice' | 'bob';
  server: ServerSpec;
  cipher?: string;
  statusFile?: boolean;
}

function startClient(c: ClientSpec): void {
  const lines = [
    'client',
    `dev ${c.name}`,
    'dev-type tun',
    `proto ${c.server.proto === 'udp' ? 'udp' : 'tcp-client'}`,
    `remote 192.0.2.1 ${c.server.port}`,
    'nobind',
    'disable-dco',
    'remote-cert-tls server',
    `ca ${work}/ca.crt`,
    `cert ${work}/${c.cert}.crt`,
    `key ${work}/${c.cert}.key`,
    `writepid ${work}/${c.name}.pid`,
    `log ${work}/${c.name}.log`,
    'verb 3',
    'daemon',
  ];
  if (c.cipher) lines.push(`data-ciphers ${c.cipher}`);
  if (c.server.auth && c.cert === 'alice') {
    writeFileSync(`${work}/alice.pass`, 'alice\nnot-a-secret\n');
    lines.push(`auth-user-pass ${work}/alice.pass`);
  }
  if (c.statusFile) lines.push(`status ${work}/${c.name}.status 1`);
  writeFileSync(`${work}/${c.name}.conf`, `${lines.join('\n')}\n`);
  inNs(CLIENT_NS, 'openvpn', '--config', `${work}/${c.name}.conf`);
}

function readIf(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function teardown(): void {
  for (const pidFile of run('sh', ['-c', `ls ${work}/*.pid 2>/dev/null || true`])
    .split('\n')
    .filter(Boolean)) {
    const pid = Number(readIf(pidFile).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
  for (const ns of [SERVER_NS, CLIENT_NS]) {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {
      /* never created */
    }
  }
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  makeCerts();
  makeNetwork();
  for (const s of servers) startServer(s);
  const clients: ClientSpec[] = servers.flatMap((s) => [
    { name: `pzc${s.id}a`, cert: 'alice' as const, server: s, statusFile: s.id === 1 },
    { name: `pzc${s.id}b`, cert: 'alice' as const, server: s },
    { name: `pzc${s.id}c`, cert: 'bob' as const, server: s, cipher: 'AES-128-GCM' },
  ]);
  for (const c of clients) startClient(c);
  await waitFor('clients', () => clients.every((c) => readIf(`${work}/${c.name}.log`).includes('Initialization Sequence Completed')), { timeoutMs: 30_000 });
  for (const c of clients) {
    // Different packet counts per client make the byte columns distinguishable.
    const payload = 'x'.repeat(c.name.endsWith('c') ? 1000 : 100);
    // The port is closed on purpose: the ICMP answer is traffic the other way.
    run('ip', ['netns', 'exec', CLIENT_NS, 'socat', '-u', 'STDIN', `UDP-SENDTO:${hostOne(c.server.net)}:9,so-bindtodevice=${c.name}`], payload);
  }
  // The status interval is 1 s but rewrites can lag by several seconds.
  const since = Date.now();
  await waitFor('fresh status files', () => servers.every((s) => statusIsFresh(`${work}/s${s.id}.status`, since)), { timeoutMs: 20_000 });
  await waitFor('client status', () => statusIsFresh(`${work}/pzc1a.status`, since), { timeoutMs: 20_000 });
  const names: Record<string, string> = {
    's1.status': 'v1-udp-2.6.status',
    's2.status': 'v2-udp-auth-2.6.status',
    's3.status': 'v3-tcp-2.6.status',
    'pzc1a.status': 'client-2.6.status',
  };
  for (const [from, to] of Object.entries(names)) copyFileSync(join(work, from), join(outDir, to));
  process.stdout.write(`wrote ${Object.values(names).join(', ')} to ${outDir}\n`);
}

function hostOne(net: string): string {
  const parts = net.split('.');
  parts[3] = String(Number(parts[3]) + 1);
  return parts.join('.');
}

function statusIsFresh(path: string, since: number): boolean {
  try {
    return Number(execFileSync('stat', ['-c', '%Y', path], { encoding: 'utf8' }).trim()) > Math.floor(since / 1000);
  } catch {
    return false;
  }
}

try {
  await main();
} finally {
  teardown();
}
