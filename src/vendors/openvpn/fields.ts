import { isIPv6 } from 'node:net';
import { ParseError } from '../../util/errors.js';
import type { OpenvpnRealAddress } from './status-types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const CTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Epoch seconds from any time OpenVPN prints: a time_t, the 2.6+ `2025-11-20 10:11:12`
 * or the older ctime `Thu Nov 20 10:11:12 2025`. The two text forms are the
 * gateway's local time with no zone; they are read as UTC, which is exact for
 * gateways running in UTC and otherwise off by their offset. v2/v3 files also
 * carry time_t columns, which callers prefer for that reason.
 */
export function parseTime(text: string, what: string): number {
  const s = text.trim();
  if (/^\d{1,12}$/.test(s)) return Number(s);
  let parts: number[] | undefined;
  const iso = ISO.exec(s);
  if (iso) parts = iso.slice(1).map(Number);
  const ct = CTIME.exec(s);
  if (ct) {
    const month = MONTHS.indexOf(ct[1] ?? '');
    if (month >= 0) parts = [Number(ct[6]), month + 1, Number(ct[2]), Number(ct[3]), Number(ct[4]), Number(ct[5])];
  }
  if (!parts) throw new ParseError(`${what}: unrecognised time ${JSON.stringify(s.slice(0, 40))}`);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0] = parts;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    throw new ParseError(`${what}: time out of range ${JSON.stringify(s)}`);
  }
  return Date.UTC(y, mo - 1, d, h, mi, sec) / 1000;
}

export function parseCount(text: string, what: string): number {
  const s = text.trim();
  if (!/^\d{1,20}$/.test(s)) throw new ParseError(`${what}: not a count: ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

/** Blank or UNDEF means "not set" in every OpenVPN column. */
export function optional(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  return s === '' || s === 'UNDEF' ? undefined : s;
}

const PROTO_PREFIX = /^((?:udp|tcp)[46]?(?:-server|-client)?):(.*)$/;

/**
 * OpenVPN prints real addresses as `198.51.100.7:1194`, IPv6 without brackets
 * (`2001:db8::7:1194`, port after the last colon), sometimes bracketed
 * (`[2001:db8::7]:1194`), occasionally without a port, and since 2.7 with a
 * protocol prefix (`udp4:...`, `tcp4-server:...`).
 */
export function parseRealAddress(text: string | undefined, what: string): OpenvpnRealAddress {
  let s = optional(text);
  if (s === undefined) return {};
  const out: OpenvpnRealAddress = {};
  const prefixed = PROTO_PREFIX.exec(s);
  if (prefixed) {
    out.protocol = prefixed[1];
    s = prefixed[2] ?? '';
  }
  let host = s;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2];
  } else {
    const last = s.lastIndexOf(':');
    const colons = s.split(':').length - 1;
    if (colons === 1 || (colons > 1 && /^\d+$/.test(s.slice(last + 1)) && isIPv6(s.slice(0, last)))) {
      host = s.slice(0, last);
      port = s.slice(last + 1);
    }
  }
  if (host !== '') out.address = host;
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new ParseError(`${what}: bad port in ${JSON.stringify(s.slice(0, 60))}`);
    }
    out.port = Number(port);
  }
  return out;
}

/** Defines an own property even for keys like `__proto__` that come from the file. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
