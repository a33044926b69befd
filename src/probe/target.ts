import { isIP } from 'node:net';
import type { Target } from './prober.js';
import { ProbeRefusal } from './refusal.js';

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

const bad = (reason: string) => new ProbeRefusal(400, reason);

/**
 * Parses `host`, `host:port`, `[v6]` or `[v6]:port`. A bad target is the caller's
 * mistake: it throws a 400 ProbeRefusal with the reason.
 */
export function parseTarget(raw: string, defaultPort: number): Target {
  if (raw.length === 0) throw bad('target is empty');
  if (raw.length > 300) throw bad('target is longer than 300 characters');
  let host: string;
  let portText: string | undefined;
  if (raw.startsWith('[')) {
    const end = raw.indexOf(']');
    if (end < 0) throw bad(`target "${raw}" has an unclosed "["`);
    host = raw.slice(1, end);
    const rest = raw.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad(`target "${raw}" has text after "]" that is not a port`);
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) throw bad(`target "${raw}" has no IPv6 address inside "[]"`);
  } else {
    const colons = raw.split(':').length - 1;
    if (colons > 1) {
      if (isIP(raw) === 6) return { host: raw, port: defaultPort, raw };
      throw bad(`target "${raw}" is not host[:port] (write IPv6 addresses as [addr]:port)`);
    }
    [host, portText] = colons === 1 ? (raw.split(':') as [string, string]) : [raw, undefined];
    if (isIP(host) === 0 && !HOSTNAME.test(host)) throw bad(`target "${raw}" has an invalid host name`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`target "${raw}" has an invalid port`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`target "${raw}" has a port outside 1-65535`);
  }
  return { host, port, raw };
}
