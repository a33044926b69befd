// OpenVPN status files for the SSH share of the fleet: what a 2.6 server writes with
// `status FILE 10` and status-version 3 (UDP) or 2 (TCP), rewritten every few seconds with a fresh
// TIME line as the daemon would. Generated in the captured fixtures' layout (test/fixtures/openvpn).
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FleetStatusFiles {
  files: { name: string; path: string }[];
  stop(): void;
}

const TITLE = 'OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] [MH/PKTINFO] [AEAD] [DCO]';

function stamp(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** One server's status: `clients` sessions, some users with two devices. */
export function openvpnStatus(version: 2 | 3, clients: number, now: number, pool: number): string {
  const sep = version === 3 ? '\t' : ',';
  const line = (...fields: (string | number)[]) => fields.join(sep);
  const out = [line('TITLE', TITLE), line('TIME', stamp(now), now)];
  out.push(
    line(
      'HEADER',
      'CLIENT_LIST',
      'Common Name',
      'Real Address',
      'Virtual Address',
      'Virtual IPv6 Address',
      'Bytes Received',
      'Bytes Sent',
      'Connected Since',
      'Connected Since (time_t)',
      'Username',
      'Client ID',
      'Peer ID',
      'Data Channel Cipher',
    ),
  );
  const routes: string[] = [];
  for (let c = 0; c < clients; c++) {
    // Every fifth user has a second device on the same certificate (duplicate-cn).
    const user = `user${c % 5 === 4 ? c - 1 : c}`;
    const real = `203.0.113.${1 + (c % 254)}:${30000 + c}`;
    const vip = `10.${8 + pool}.${Math.floor((c + 2) / 256)}.${(c + 2) % 256}`;
    const since = now - 600 - c * 37;
    out.push(
      line(
        'CLIENT_LIST',
        user,
        real,
        vip,
        '',
        1_000_000 + c * 4099,
        3_000_000 + c * 8191,
        stamp(since),
        since,
        c % 3 === 0 ? user : 'UNDEF',
        c,
        c,
        c % 4 === 0 ? 'AES-128-GCM' : 'AES-256-GCM',
      ),
    );
    routes.push(line('ROUTING_TABLE', vip, user, real, stamp(now - (c % 30)), now - (c % 30)));
  }
  out.push(line('HEADER', 'ROUTING_TABLE', 'Virtual Address', 'Common Name', 'Real Address', 'Last Ref', 'Last Ref (time_t)'));
  out.push(...routes);
  out.push(line('GLOBAL_STATS', 'Max bcast/mcast queue length', 0), line('GLOBAL_STATS', 'dco_enabled', 0), 'END', '');
  return out.join('\n');
}

/**
 * A UDP server with `udpClients` sessions and a TCP one with `tcpClients`, rewritten every
 * `everyMs` (atomically: a torn read is a different test's subject).
 */
export function startStatusFiles(dir: string, udpClients: number, tcpClients: number, everyMs = 10_000): FleetStatusFiles {
  const files = [
    { name: 'udp', path: join(dir, 'udp.status'), version: 3 as const, clients: udpClients, pool: 0 },
    { name: 'tcp', path: join(dir, 'tcp.status'), version: 2 as const, clients: tcpClients, pool: 1 },
  ];
  const write = () => {
    const now = Math.floor(Date.now() / 1000);
    for (const f of files) {
      writeFileSync(`${f.path}.new`, openvpnStatus(f.version, f.clients, now, f.pool), { mode: 0o644 });
      renameSync(`${f.path}.new`, f.path);
    }
  };
  write();
  const timer = setInterval(write, everyMs);
  return { files: files.map(({ name, path }) => ({ name, path })), stop: () => clearInterval(timer) };
}
