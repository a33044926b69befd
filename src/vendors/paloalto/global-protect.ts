import { parseCount } from './numbers.js';
import { cleanTerminalText, parsePromptLine } from './prompt.js';

/**
 * One user connected to a GlobalProtect gateway. Field for field what the XML API's
 * `<show><global-protect-gateway><current-user/>` entries carry (username, primary-username,
 * computer, client, virtual-ip, public-ip, tunnel-type, login-time, login-time-utc), so an
 * XML reader can fill the same record.
 */
export interface PanosGpUser {
  gateway: string;
  /** The gateway's tunnel (`GW-N`) when the device names it. */
  tunnelName?: string;
  /** As the user authenticated (`corp\\alice`, `alice`). */
  username: string;
  primaryUsername?: string;
  domain?: string;
  computer?: string;
  /** The client's OS string (`Microsoft Windows 10 Enterprise , 64-bit`). */
  client?: string;
  clientOs?: string;
  vpnType?: string;
  virtualIp?: string;
  virtualIpv6?: string;
  publicIp?: string;
  publicIpv6?: string;
  /** `IPSec` or `SSL`. */
  tunnelType?: string;
  /** As printed (`Mar.03 08:01:12`, no year). */
  loginTime?: string;
  /** Login time as Unix seconds, when the device gives it. */
  loginEpochSeconds?: number;
  /** Seconds until the login expires. */
  ttlSeconds?: number;
}

export interface PanosGpStatistics {
  gateways: { name: string; currentUsers?: number; previousUsers?: number }[];
  totalCurrentUsers?: number;
  totalPreviousUsers?: number;
}

/*
 * `show global-protect-gateway current-user` prints, per gateway, a line naming it and
 * then one block of `Key : value` lines per user. Keys are matched by name and unknown
 * keys are read past (releases add Region, Mobile ID, Request lines, ...). A new user
 * starts with its `Domain-User Name` (older releases: `User Name`) line. Nothing at all,
 * or only a gateway header, is a gateway with no users: a valid answer.
 */
const GATEWAY_HEADER = /^GlobalProtect Gateway:\s*(.+?)(?:\s*\(\d+ users?\))?$/i;
const KEY_VALUE = /^([A-Za-z][A-Za-z0-9 ()/_-]*?)\s*:\s?(.*)$/;

type Setter = (u: PanosGpUser, v: string) => void;

const KEYS: [RegExp, Setter][] = [
  [/^tunnel name$/i, (u, v) => (u.tunnelName = v)],
  [/^(?:domain-user name|user ?name)$/i, (u, v) => (u.username = v)],
  [/^primary user ?name$/i, (u, v) => (u.primaryUsername = v)],
  [/^domain$/i, (u, v) => (u.domain = v)],
  [/^computer$/i, (u, v) => (u.computer = v)],
  [/^client$/i, (u, v) => (u.client = v)],
  [/^client os$/i, (u, v) => (u.clientOs = v)],
  [/^vpn type$/i, (u, v) => (u.vpnType = v)],
  [/^(?:private|virtual) ip$/i, (u, v) => (u.virtualIp = v)],
  [/^(?:private|virtual) ipv6$/i, (u, v) => (u.virtualIpv6 = v)],
  [/^public ip(?: \(connected\))?$/i, (u, v) => (u.publicIp = v)],
  [/^public ipv6$/i, (u, v) => (u.publicIpv6 = v)],
  [/^tunnel type$/i, (u, v) => (u.tunnelType = v)],
  [
    /^esp$/i,
    (u, v) => {
      if (/^exist/i.test(v)) u.tunnelType = 'IPSec';
    },
  ],
  [
    /^ssl$/i,
    (u, v) => {
      if (/^exist/i.test(v) && u.tunnelType === undefined) u.tunnelType = 'SSL';
    },
  ],
  [/^login time$/i, (u, v) => (u.loginTime = v)],
  [
    /^login time utc$/i,
    (u, v) => {
      const n = parseCount(v);
      if (n !== undefined) u.loginEpochSeconds = n;
    },
  ],
  [
    /^ttl$/i,
    (u, v) => {
      const n = parseCount(v);
      if (n !== undefined) u.ttlSeconds = n;
    },
  ],
  // `Request - Login : 2025-03-03 08:01:11.624 (1740988871624), 198.51.100.77`
  [
    /^request - login$/i,
    (u, v) => {
      const ms = parseCount(/\((\d{10,16})\)/.exec(v)?.[1]);
      if (ms !== undefined && u.loginEpochSeconds === undefined) u.loginEpochSeconds = Math.floor(ms / 1000);
    },
  ],
];

/** Values PAN-OS prints for "none": an empty field, `::` for no IPv6 address. */
export function blank(v: string): boolean {
  return v === '' || v === '::' || v === '0.0.0.0' || v.toLowerCase() === 'n/a';
}

export function parseGpCurrentUsers(text: string): PanosGpUser[] {
  const users: PanosGpUser[] = [];
  let gateway = '';
  let tunnelName: string | undefined;
  let current: PanosGpUser | undefined;
  const finish = () => {
    if (current && current.username !== '') users.push(current);
    current = undefined;
  };
  for (const raw of cleanTerminalText(text).split('\n')) {
    const line = raw.trim();
    if (line === '' || parsePromptLine(line) || /^show global-protect-gateway\b/.test(line)) continue;
    const gw = GATEWAY_HEADER.exec(line);
    if (gw) {
      finish();
      gateway = gw[1] ?? '';
      tunnelName = undefined;
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (!kv) continue;
    const key = (kv[1] ?? '').trim();
    const value = (kv[2] ?? '').trim();
    if (/^tunnel name$/i.test(key)) {
      finish();
      tunnelName = value;
      continue;
    }
    if (/^(?:domain-user name|user ?name)$/i.test(key)) {
      finish();
      current = { gateway, username: '' };
      if (tunnelName !== undefined) current.tunnelName = tunnelName;
    }
    if (!current || blank(value)) continue;
    KEYS.find(([re]) => re.test(key))?.[1](current, value);
  }
  finish();
  return users;
}

/*
 * `show global-protect-gateway statistics`: per gateway its current and previous users,
 * then totals. Lines are found by name; the rest (tunnel and throughput counters that
 * differ by release) is read past.
 */
export function parseGpStatistics(text: string): PanosGpStatistics {
  const stats: PanosGpStatistics = { gateways: [] };
  let gw: PanosGpStatistics['gateways'][number] | undefined;
  for (const raw of cleanTerminalText(text).split('\n')) {
    const line = raw.trim();
    const kv = KEY_VALUE.exec(line);
    if (!kv) continue;
    const key = (kv[1] ?? '').trim().toLowerCase();
    const value = (kv[2] ?? '').trim();
    if (key === 'gateway' || key === 'gateway name') {
      gw = { name: value };
      stats.gateways.push(gw);
    } else if (key === 'total current users') {
      const n = parseCount(value);
      if (n !== undefined) stats.totalCurrentUsers = n;
    } else if (key === 'total previous users') {
      const n = parseCount(value);
      if (n !== undefined) stats.totalPreviousUsers = n;
    } else if (gw && key === 'current users') {
      const n = parseCount(value);
      if (n !== undefined) gw.currentUsers = n;
    } else if (gw && key === 'previous users') {
      const n = parseCount(value);
      if (n !== undefined) gw.previousUsers = n;
    }
  }
  return stats;
}

/**
 * Whether a refusal of a GlobalProtect command means "no GlobalProtect here" (nothing
 * configured, not licensed, an older release without the command) rather than a fault.
 */
export function meansNoGlobalProtect(cliError: string): boolean {
  return /^Invalid syntax\b/i.test(cliError) || (/global-?protect|gateway/i.test(cliError) && /not\b|no\b|disabled|licen[cs]/i.test(cliError));
}
