import { ParseError } from '../../util/errors.js';
import { optional, parseCount, setOwn } from './fields.js';

/*
 * Answers of OpenVPN's management interface (doc/management-notes.txt, manage.c), each as the
 * lines of one answer without real-time `>` notifications and without its END. Pure functions.
 * Lines and fields they do not know are skipped: a newer release may add some.
 */

export interface ManagementVersion {
  /** `2.6.14` from `OpenVPN Version: OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] ...`. */
  version?: string;
  /** The whole title after `OpenVPN Version:`. */
  title?: string;
  /** The interface's own version (`Management Version: 5`). */
  managementVersion?: number;
}

/** `version`: two labelled lines, in no guaranteed order. */
export function parseManagementVersion(lines: readonly string[]): ManagementVersion {
  const out: ManagementVersion = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const label = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (label === 'OpenVPN Version') {
      out.title = value;
      const v = /^OpenVPN (\d+\.\d+[\w.-]*)/.exec(value)?.[1];
      if (v !== undefined) out.version = v;
    } else if (label === 'Management Version' && /^\d{1,6}$/.test(value)) {
      out.managementVersion = Number(value);
    }
  }
  if (out.title === undefined && out.managementVersion === undefined) {
    throw new ParseError(`version answer names neither the OpenVPN nor the management version: ${JSON.stringify(lines.join(' | ').slice(0, 120))}`);
  }
  return out;
}

/** The states the notes document; another word (a newer release's) is kept as printed. */
export const MANAGEMENT_STATES = [
  'CONNECTING',
  'WAIT',
  'AUTH',
  'GET_CONFIG',
  'ASSIGN_IP',
  'ADD_ROUTES',
  'CONNECTED',
  'RECONNECTING',
  'EXITING',
  'RESOLVE',
  'TCP_CONNECT',
  'AUTH_PENDING',
] as const;

export interface ManagementState {
  /** Unix time the daemon entered the state. */
  since: number;
  /** CONNECTED, RECONNECTING, ... */
  name: string;
  /** The optional description (SUCCESS, or why it reconnects or exits). */
  description?: string;
  /** TUN/TAP local IPv4 address. */
  localIpv4?: string;
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  localIpv6?: string;
}

const STATE_NAME = /^[A-Z][A-Z0-9_]{0,31}$/;

/**
 * `state`: `time,STATE,description,local-ip,remote,remote-port,local,local-port,local-ipv6`
 * (fields after the state appeared over releases; more may follow). Without an argument
 * OpenVPN prints the current state only; were there several lines, the last is the newest.
 */
export function parseManagementState(lines: readonly string[]): ManagementState {
  const rows = lines.filter((l) => /^\d{1,12},/.test(l));
  const row = rows.at(-1);
  if (row === undefined) throw new ParseError(`state answer has no "time,STATE,..." line: ${JSON.stringify(lines.join(' | ').slice(0, 120))}`);
  const [time = '', name = '', description, localIpv4, remoteAddress, remotePort, localAddress, localPort, localIpv6] = row.split(',');
  if (!STATE_NAME.test(name)) throw new ParseError(`state answer names no state: ${JSON.stringify(row.slice(0, 120))}`);
  const out: ManagementState = { since: Number(time), name };
  const set = <K extends keyof ManagementState>(key: K, value: ManagementState[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set('description', optional(description));
  set('localIpv4', optional(localIpv4));
  set('remoteAddress', optional(remoteAddress));
  set('remotePort', port(remotePort));
  set('localAddress', optional(localAddress));
  set('localPort', port(localPort));
  set('localIpv6', optional(localIpv6));
  return out;
}

function port(text: string | undefined): number | undefined {
  const s = optional(text);
  return s !== undefined && /^\d{1,5}$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined;
}

export interface ManagementLoadStats {
  /** Connected clients. */
  clients: number;
  /** Bytes read from / written to the network by the whole daemon (link_read/write_bytes_global). */
  bytesIn: number;
  bytesOut: number;
  /** Keys this parser does not know yet, verbatim. */
  other: Record<string, string>;
}

/** `load-stats`: `SUCCESS: nclients=2,bytesin=123,bytesout=456` (the text after `SUCCESS:`). */
export function parseLoadStats(text: string): ManagementLoadStats {
  const values = new Map<string, string>();
  const other: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key === 'nclients' || key === 'bytesin' || key === 'bytesout') values.set(key, value);
    else setOwn(other, key, value);
  }
  const count = (key: string) => {
    const v = values.get(key);
    if (v === undefined) throw new ParseError(`load-stats answer lacks ${key}: ${JSON.stringify(text.slice(0, 120))}`);
    return parseCount(v, `load-stats ${key}`);
  };
  return { clients: count('nclients'), bytesIn: count('bytesin'), bytesOut: count('bytesout'), other };
}
