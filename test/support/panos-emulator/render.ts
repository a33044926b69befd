import type { EmulatedTunnel, PanosScenario } from './scenario.js';

// Values start in column 62 on the totals lines, as on a real unit.
const TOTALS_WIDTH = 62;
// Newer releases reserve 64 columns for the name; longer names (tunnel:proxy-id) widen it.
const MIN_NAME_WIDTH = 64;

export function renderVpnFlow(s: PanosScenario): string[] {
  const ipsec = s.tunnels.length;
  const nameWidth = Math.max(MIN_NAME_WIDTH, ...s.tunnels.map((t) => t.name.length + 1));
  const mode = s.flowModeColumn === true;
  const row = (cells: [string, string, string, string, string, string, string, string]) =>
    cells[0].padEnd(6) +
    cells[1].padEnd(nameWidth) +
    cells[2].padEnd(8) +
    cells[3].padEnd(8) +
    cells[4].padEnd(30) +
    cells[5].padEnd(30) +
    (mode ? cells[6].padEnd(12) + cells[7] : cells[6]);
  return [
    '',
    'total tunnels configured:'.padEnd(TOTALS_WIDTH) + String(ipsec + (s.otherTunnels ?? 0)),
    'filter - type IPSec, state any',
    '',
    'total IPSec tunnel configured:'.padEnd(TOTALS_WIDTH) + String(ipsec),
    'total IPSec tunnel shown:'.padEnd(TOTALS_WIDTH) + String(ipsec),
    '',
    row(['id', 'name', 'state', 'monitor', 'local-ip', 'peer-ip', 'tunnel-i/f', 'mode']),
    row(['--', '--------------', '-----', '-------', '--------', '-------', '----------', '----']),
    ...s.tunnels.map((t) => row([String(t.id), t.name, t.state, t.monitor, t.localIp, t.peerIp, t.interface, 'route']).trimEnd()),
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
  const time = now
    .toUTCString()
    .replace(
      /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/,
      (_m, wd: string, d: string, mo: string, y: string, t: string) => `${wd} ${mo} ${d.padStart(2, ' ')} ${t} ${y}`,
    );
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

/** A cell padded to its column, and never run into the next one (real tables push the rest of the row right). */
function pad(v: string, width: number): string {
  return v.length >= width ? `${v} ` : v.padEnd(width);
}

/** The IKE gateway of a tunnel: as configured, or `gw-` and the name before any `:proxy-id`. */
export function gatewayOf(t: EmulatedTunnel): string {
  return t.gateway ?? `gw-${t.name.split(':')[0] ?? t.name}`;
}

/** Gateways with at least one active tunnel, each with its id and peer. */
export function upGateways(s: PanosScenario): { id: number; name: string; peer: string }[] {
  const out = new Map<string, { id: number; name: string; peer: string }>();
  for (const t of s.tunnels) {
    const name = gatewayOf(t);
    if (t.state === 'active' && !out.has(name)) out.set(name, { id: out.size + 1, name, peer: t.peerIp });
  }
  return [...out.values()];
}

/*
 * `show vpn ike-sa` and `show vpn ipsec-sa`, in the layout PAN-OS 10.x/11.x prints (tables
 * with a dash row under the header, a `Show ...: Total ...` summary, a sentence when a
 * table is empty). Every unit here speaks IKEv2: the IKEv1 tables are the empty sentences.
 */
export function renderIkeSa(s: PanosScenario): string[] {
  const gws = upGateways(s);
  const head = ['', 'There is no IKEv1 phase-1 SA found.', '', 'There is no IKEv1 phase-2 SA found.', ''];
  if (gws.length === 0 || s.ha?.localState === 'passive') return [...head, 'There is no IKEv2 SA found.', ''];
  const r = (c: string[]) =>
    pad(c[0]!, 16) +
    pad(c[1]!, 23) +
    pad(c[2]!, 23) +
    pad(c[3]!, 5) +
    pad(c[4]!, 9) +
    pad(c[5]!, 22) +
    pad(c[6]!, 16) +
    pad(c[7]!, 16) +
    pad(c[8]!, 3) +
    pad(c[9]!, 7) +
    c[10];
  const children = s.tunnels.filter((t) => t.state === 'active');
  const c = (x: string[]) =>
    pad(x[0]!, 23) + pad(x[1]!, 9) + pad(x[2]!, 26) + pad(x[3]!, 9) + pad(x[4]!, 9) + pad(x[5]!, 5) + pad(x[6]!, 9) + pad(x[7]!, 9) + pad(x[8]!, 9) + x[9];
  return [
    ...head,
    'IKEv2 SAs',
    r(['Gateway ID', 'Peer-Address', 'Gateway Name', 'Role', 'SN', 'Algorithm', 'Established', 'Expiration', 'Xt', 'Child', 'ST']),
    r(['----------', '------------', '------------', '----', '--', '---------', '-----------', '----------', '--', '-----', '--']),
    ...gws.map((g) =>
      r([
        String(g.id),
        g.peer,
        g.name,
        'Init',
        String(40 + g.id),
        'PSK/DH20/A256/SHA256',
        'Mar.04 09:00:01',
        'Mar.04 17:00:01',
        '0',
        String(children.filter((t) => gatewayOf(t) === g.name).length),
        'Established',
      ]).trimEnd(),
    ),
    '',
    'IKEv2 IPsec Child SAs',
    c(['Gateway Name', 'TnID', 'Tunnel', 'ID', 'Parent', 'Role', 'SPI(in)', 'SPI(out)', 'MsgID', 'ST']),
    c(['------------', '----', '------', '--', '------', '----', '-------', '--------', '-----', '--']),
    ...children.map((t) =>
      c([
        gatewayOf(t),
        String(t.id),
        t.name,
        String(300000 + t.id),
        String(40 + (gws.find((g) => g.name === gatewayOf(t))?.id ?? 0)),
        'Init',
        spi(t.id, 1),
        spi(t.id, 2),
        '000007B4',
        'Mature',
      ]).trimEnd(),
    ),
    '',
    `Show IKEv2 SA: Total ${new Set(s.tunnels.map(gatewayOf)).size} gateways found. ${gws.length} ike sa found.`,
    '',
  ];
}

function spi(id: number, n: number): string {
  return ((0x9f000000 + id * 0x1010 + n) >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

export function renderIpsecSa(s: PanosScenario): string[] {
  const up = s.ha?.localState === 'passive' ? [] : s.tunnels.filter((t) => t.state === 'active');
  if (up.length === 0) return ['', 'There is no IPSec SA found.', ''];
  const gws = upGateways(s);
  const r = (c: string[]) =>
    pad(c[0]!, 16) + pad(c[1]!, 7) + pad(c[2]!, 23) + pad(c[3]!, 47) + pad(c[4]!, 19) + pad(c[5]!, 9) + pad(c[6]!, 9) + pad(c[7]!, 25) + c[8];
  return [
    '',
    r(['GwID/client IP', 'TnID', 'Peer-Address', 'Tunnel(Gateway)', 'Algorithm', 'SPI(in)', 'SPI(out)', 'life(Sec/KB)', 'remain-time(Sec)']),
    r(['--------------', '----', '------------', '---------------', '---------', '-------', '--------', '------------', '----------------']),
    ...up.map((t) =>
      r([
        String(gws.find((g) => g.name === gatewayOf(t))?.id ?? 0),
        String(t.id),
        t.peerIp,
        `${t.name}(${gatewayOf(t)})`,
        'ESP/A256/SHA256',
        spi(t.id, 1),
        spi(t.id, 2),
        '3600/Unlimited',
        String(3000 + t.id),
      ]).trimEnd(),
    ),
    '',
    `Show IPsec SA: Total ${s.tunnels.length} tunnels found. ${up.length} ipsec sa found.`,
    '',
  ];
}

/*
 * `show high-availability state`, the parts of the PAN-OS 10.x layout this exporter reads
 * plus some it must read past. A unit without HA: the one-line answer below (the wording
 * is this emulator's; the prober only relies on the absence of `Local Information:`).
 */
export function renderHaState(s: PanosScenario): string[] {
  const ha = s.ha;
  if (!ha) return ['', 'HA not enabled.', ''];
  return [
    '',
    'Group 1:',
    `  Mode: ${ha.mode}`,
    '  Local Information:',
    '    Version: 1',
    `    Mode: ${ha.mode}`,
    `    State: ${ha.localState} (last 3 days)`,
    '    Device Information:',
    `      Management IPv4 Address: ${s.ipAddress}/24`,
    '      Jumbo-Frames disabled; MTU 1500',
    '    Election Option Information:',
    '      Priority: 100',
    '      Preemptive: no',
    '    Version Compatibility:',
    '      Software Version: Match',
    '  Peer Information:',
    `    Connection status: ${ha.peerConnection}`,
    '    Version: 1',
    `    Mode: ${ha.mode}`,
    `    State: ${ha.peerState} (last 3 days)`,
    '    Priority: 110',
    '  Configuration Synchronization:',
    '    Enabled: yes',
    '    Running Configuration: synchronized',
    '',
  ];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export function panosTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]}.${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/*
 * `show global-protect-gateway current-user`: per gateway a header, then one block of
 * `Key : value` lines per user (PAN-OS 10.x field names). No GlobalProtect: no output.
 */
export function renderGpCurrentUsers(s: PanosScenario, now: Date): string[] {
  const gp = s.globalProtect;
  if (!gp) return [];
  const out: string[] = [''];
  const kv = (k: string, v: string) => `        ${k.padEnd(22)}: ${v}`;
  for (const g of gp.gateways) {
    const users = gp.users.filter((u) => u.gateway === g.name);
    out.push(`GlobalProtect Gateway: ${g.name} (${users.length} users)`);
    out.push(`Tunnel Name          : ${g.name}-N`);
    for (const u of users) {
      const login = new Date(now.getTime() - u.loggedInSecondsAgo * 1000);
      out.push(
        kv('Domain-User Name', u.domainUser),
        kv('Primary Username', u.primaryUsername),
        kv('Region for Config', '10.0.0.0-10.255.255.255'),
        kv('Source Region', 'DE'),
        kv('Computer', u.computer),
        kv('Client', u.client),
        kv('VPN Type', 'Device Level VPN'),
        kv('Mobile ID', ''),
        kv('Client OS', u.clientOs),
        kv('Private IP', u.virtualIp),
        kv('Private IPv6', '::'),
        kv('Public IP (connected)', u.publicIp),
        kv('Public IPv6', '::'),
        kv('ESP', u.tunnelType === 'IPSec' ? 'exist' : 'none'),
        kv('SSL', 'exist'),
        kv('Login Time', panosTime(login)),
        kv('Logout/Expiration', panosTime(new Date(login.getTime() + 30 * 86400_000))),
        kv('TTL', String(30 * 86400 - u.loggedInSecondsAgo)),
        kv('Inactivity TTL', '10800'),
        kv('Request - Login', `${login.toISOString().replace('T', ' ').replace('Z', '')} (${login.getTime()}), ${u.publicIp}`),
        '',
      );
    }
  }
  return out;
}

/** `show global-protect-gateway statistics`: per gateway its user counts, then totals. No GlobalProtect: totals of 0. */
export function renderGpStatistics(s: PanosScenario): string[] {
  const gp = s.globalProtect ?? { gateways: [], users: [] };
  const out = ['', 'GlobalProtect Gateway Summary'];
  for (const g of gp.gateways) {
    const current = gp.users.filter((u) => u.gateway === g.name).length;
    out.push(
      `  Gateway Name   : ${g.name}`,
      `    Current Users  : ${current}`,
      `    Previous Users : ${g.previousUsers}`,
      `    Successful IPSec Connections : ${current * 2}`,
      `    Successful SSL Connections   : 1`,
    );
  }
  out.push(`  Total Current Users  : ${gp.users.length}`, `  Total Previous Users : ${gp.gateways.reduce((a, g) => a + g.previousUsers, 0)}`, '');
  return out;
}
