import ipaddr from 'ipaddr.js';
import picomatch from 'picomatch';
import { isIP } from 'node:net';
import { z } from 'zod';

interface Rule {
  text: string;
  matchesHost(host: string): boolean;
  /** Undefined: any port. */
  ports?: { from: number; to: number };
}

export interface AllowList {
  rules: Rule[];
}

const ENTRY = /^(?<host>\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+\/\d+)(?::(?<port>\*|\d{1,5}(?:-\d{1,5})?))?$/;

function parsePorts(text: string | undefined, defaultPort: number): Rule['ports'] | string {
  if (text === '*') return undefined;
  if (text === undefined) return { from: defaultPort, to: defaultPort };
  const [a, b] = text.split('-').map(Number) as [number, number | undefined];
  const to = b ?? a;
  if (a < 1 || to > 65535 || a > to) return `port range "${text}" is not within 1-65535`;
  return { from: a, to };
}

function hostMatcher(host: string): ((h: string) => boolean) | string {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (bare.includes('/')) {
    if (!ipaddr.isValidCIDR(bare)) return `"${bare}" is not a valid CIDR`;
    const [net, bits] = ipaddr.parseCIDR(bare);
    return (h) => {
      if (isIP(h) === 0) return false;
      const addr = ipaddr.process(h);
      return addr.kind() === net.kind() && addr.match(net, bits);
    };
  }
  if (isIP(bare) !== 0) {
    const want = ipaddr.process(bare).toNormalizedString();
    return (h) => isIP(h) !== 0 && ipaddr.process(h).toNormalizedString() === want;
  }
  if (!/^[A-Za-z0-9*?.{},_-]+$/.test(bare)) return `"${bare}" is neither an address, a CIDR nor a host name pattern`;
  // Host names compare case-insensitively; a glob never matches an IP literal.
  const glob = picomatch(bare.toLowerCase(), { dot: true });
  return (h) => isIP(h) === 0 && glob(h.toLowerCase().replace(/\.$/, ''));
}

/**
 * `allowed_targets` entries: an address, a CIDR, or a host name glob (`*.vpn.example.net`),
 * each with an optional `:port`, `:from-to` or `:*`. Without a port only the prober's default
 * port is allowed. Names are matched as written, never resolved: a CIDR entry allows IP
 * literals only, so DNS cannot widen the list.
 */
export function allowListSchema(defaultPort: number) {
  return z
    .array(z.string().min(1).max(300))
    .min(1)
    .transform((entries, ctx): AllowList => {
      const rules: Rule[] = [];
      entries.forEach((text, i) => {
        const m = ENTRY.exec(text);
        const host = m?.groups?.host;
        if (!host) {
          ctx.addIssue({ code: 'custom', path: [i], message: `"${text}" is not host[:port]` });
          return;
        }
        const ports = parsePorts(m.groups?.port, defaultPort);
        const matchesHost = hostMatcher(host);
        if (typeof ports === 'string' || typeof matchesHost === 'string') {
          ctx.addIssue({ code: 'custom', path: [i], message: typeof ports === 'string' ? ports : (matchesHost as string) });
          return;
        }
        rules.push({ text, matchesHost, ports });
      });
      return { rules };
    });
}

/** Whether a module with this list may connect to host:port; no list allows anywhere. */
export function isAllowed(list: AllowList | undefined, host: string, port: number): boolean {
  if (!list) return true;
  return list.rules.some((r) => r.matchesHost(host) && (!r.ports || (port >= r.ports.from && port <= r.ports.to)));
}
