import type { PanosScenario } from './scenario.js';

// Values start in column 62 on the totals lines, as on a real unit.
const TOTALS_WIDTH = 62;
// Newer releases reserve 64 columns for the name; longer names (tunnel:proxy-id) widen it.
const MIN_NAME_WIDTH = 64;

export function renderVpnFlow(s: PanosScenario): string[] {
  const ipsec = s.tunnels.length;
  const nameWidth = Math.max(MIN_NAME_WIDTH, ...s.tunnels.map((t) => t.name.length + 1));
  const row = (cells: [string, string, string, string, string, string, string]) =>
    cells[0].padEnd(6) + cells[1].padEnd(nameWidth) + cells[2].padEnd(8) + cells[3].padEnd(8) +
    cells[4].padEnd(30) + cells[5].padEnd(30) + cells[6];
  return [
    '',
    'total tunnels configured:'.padEnd(TOTALS_WIDTH) + String(ipsec + (s.otherTunnels ?? 0)),
    'filter - type IPSec, state any',
    '',
    'total IPSec tunnel configured:'.padEnd(TOTALS_WIDTH) + String(ipsec),
    'total IPSec tunnel shown:'.padEnd(TOTALS_WIDTH) + String(ipsec),
    '',
    row(['id', 'name', 'state', 'monitor', 'local-ip', 'peer-ip', 'tunnel-i/f']),
    row(['--', '--------------', '-----', '-------', '--------', '-------', '----------  ']),
    ...s.tunnels.map((t) => row([String(t.id), t.name, t.state, t.monitor, t.localIp, t.peerIp, t.interface]).trimEnd()),
    '',
  ];
}

export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${d} days, ${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function renderSystemInfo(s: PanosScenario, now: Date): string[] {
  const time = now.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_m, wd: string, d: string, mo: string, y: string, t: string) =>
    `${wd} ${mo} ${d.padStart(2, ' ')} ${t} ${y}`);
  const fields: [string, string][] = [
    ['hostname', s.hostname],
    ['ip-address', s.ipAddress],
    ['public-ip-address', 'unknown'],
    ['netmask', '255.255.255.0'],
    ['default-gateway', s.ipAddress.replace(/\.\d+$/, '.1')],
    ['ip-assignment', 'static'],
    ['ipv6-address', 'unknown'],
    ['ipv6-default-gateway', ''],
    ['mac-address', '00:50:56:aa:bb:cc'],
    ['time', time],
    ['uptime', formatUptime(s.uptimeSeconds)],
    ['family', s.family],
    ['model', s.model],
    ['serial', s.serial],
    ['sw-version', s.swVersion],
    ['app-version', '8800-8735'],
    ['threat-version', '8800-8735'],
    ['logdb-version', '10.2.1'],
    ['platform-family', s.family],
    ['vpn-disable-mode', 'off'],
    ['multi-vsys', 'off'],
    ['operational-mode', 'normal'],
  ];
  return ['', ...fields.map(([k, v]) => `${k}: ${v}`), ''];
}
