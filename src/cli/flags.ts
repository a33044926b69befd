import { parseArgs } from 'node:util';
import type { LogFormat, LogLevelName } from '../log/logger.js';

export interface Flags {
  listenHost: string | undefined;
  listenPort: number;
  configFile: string;
  configCheck: boolean;
  webConfigFile: string | undefined;
  /** "" or a path like "/vpn" (no trailing slash) that every route sits under. */
  routePrefix: string;
  externalUrl: string | undefined;
  timeoutOffsetSeconds: number;
  historyLimit: number;
  fleetMaxTargets: number;
  maxConcurrency: number;
  maxPerTarget: number;
  sshMaxConnections: number;
  logLevel: LogLevelName;
  logFormat: LogFormat;
  help: boolean;
  version: boolean;
}

export const USAGE = `usage: vpn-exporter [flags]

Multi-target Prometheus exporter for VPN gateways (strongSwan, OpenVPN, PAN-OS).

  --web.listen-address=[host]:port  address to listen on (default ":9234")
  --config.file=PATH                modules file (default "modules.yaml")
  --config.check                    validate the modules file (and the web config file), print any error and exit
  --web.config.file=PATH            exporter-toolkit web configuration: TLS, client certificates, basic auth
  --web.external-url=URL            the URL people and Prometheus use to reach the exporter (behind a proxy)
  --web.route-prefix=PATH           path every route sits under (default: the path of --web.external-url, else /)
  --timeout-offset=SECONDS          subtracted from Prometheus' scrape timeout (default 0.5)
  --history.limit=N                 probes kept for the web UI's history and logs (default 100)
  --fleet.max-targets=N             (module, target, auth) kept for the fleet page; least recently
                                    probed dropped first (default 10000, at most 1000000)
  --probe.max-concurrency=N         probes running at once; more wait within their timeout (default 200)
  --probe.max-per-target=N          probes running at once against one target (default 2)
  --ssh.max-connections=N           pooled SSH connections, all targets (default 1024; at least twice
                                    --probe.max-concurrency); idle ones beyond it are closed, oldest first
  --log.level=debug|info|warn|error (default "info")
  --log.format=logfmt|json          (default "logfmt")
  --version                         print the version and exit
  --help                            print this help and exit
`;

/** Wrong command-line flags; the message says which and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Splits "[host]:port", ":port" or "host:port"; an empty host means every address. */
export function parseListenAddress(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new UsageError(`--web.listen-address "${text}" is not [host]:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--web.listen-address "${text}" has a port outside 0-65535`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** Prometheus-style flags; throws a UsageError saying what is wrong. */
export function parseFlags(argv: string[]): Flags {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'web.listen-address': { type: 'string', default: ':9234' },
        'config.file': { type: 'string', default: 'modules.yaml' },
        'config.check': { type: 'boolean', default: false },
        'web.config.file': { type: 'string' },
        'web.external-url': { type: 'string' },
        'web.route-prefix': { type: 'string' },
        'timeout-offset': { type: 'string', default: '0.5' },
        'history.limit': { type: 'string', default: '100' },
        'fleet.max-targets': { type: 'string', default: '10000' },
        'probe.max-concurrency': { type: 'string', default: '200' },
        'probe.max-per-target': { type: 'string', default: '2' },
        'ssh.max-connections': { type: 'string', default: '1024' },
        'log.level': { type: 'string', default: 'info' },
        'log.format': { type: 'string', default: 'logfmt' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const listen = parseListenAddress(values['web.listen-address']);
  const offset = Number(values['timeout-offset']);
  if (!Number.isFinite(offset) || offset < 0) throw new UsageError(`--timeout-offset must be a number of seconds >= 0`);
  let externalUrl: URL | undefined;
  if (values['web.external-url'] !== undefined) {
    try {
      externalUrl = new URL(values['web.external-url']);
    } catch {
      throw new UsageError(`--web.external-url "${values['web.external-url']}" is not an absolute URL`);
    }
    if (!['http:', 'https:'].includes(externalUrl.protocol)) throw new UsageError(`--web.external-url must be http or https`);
  }
  const prefix = (values['web.route-prefix'] ?? externalUrl?.pathname ?? '/').replace(/\/+$/, '');
  if (prefix !== '' && !/^\/[A-Za-z0-9._~/-]*$/.test(prefix)) throw new UsageError(`--web.route-prefix must be a path like /vpn-exporter`);
  const counts: Record<string, number> = {};
  for (const name of ['history.limit', 'fleet.max-targets', 'probe.max-concurrency', 'probe.max-per-target', 'ssh.max-connections'] as const) {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number >= 1`);
    counts[name] = n;
  }
  const {
    'history.limit': historyLimit,
    'fleet.max-targets': fleetMaxTargets,
    'probe.max-concurrency': maxConcurrency,
    'probe.max-per-target': maxPerTarget,
    'ssh.max-connections': sshMaxConnections,
  } = counts as Record<'history.limit' | 'fleet.max-targets' | 'probe.max-concurrency' | 'probe.max-per-target' | 'ssh.max-connections', number>;
  // The store preallocates its ring of dropped targets (16 B each) at the first drop.
  if (fleetMaxTargets > 1_000_000) throw new UsageError('--fleet.max-targets must be at most 1000000');
  // Each running probe holds at most two pooled connections (a target and its jump host):
  // a pool this size is never full of busy connections, so no probe fails on the pool.
  if (sshMaxConnections < 2 * maxConcurrency) {
    throw new UsageError(`--ssh.max-connections (${sshMaxConnections}) must be at least twice --probe.max-concurrency (${maxConcurrency})`);
  }
  const level = values['log.level'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log.level must be debug, info, warn or error`);
  const format = values['log.format'];
  if (!['logfmt', 'json'].includes(format)) throw new UsageError(`--log.format must be logfmt or json`);
  return {
    listenHost: listen.host,
    listenPort: listen.port,
    configFile: values['config.file'],
    configCheck: values['config.check'],
    webConfigFile: values['web.config.file'] || undefined,
    routePrefix: prefix,
    externalUrl: externalUrl?.href,
    timeoutOffsetSeconds: offset,
    historyLimit,
    fleetMaxTargets,
    maxConcurrency,
    maxPerTarget,
    sshMaxConnections,
    logLevel: level as LogLevelName,
    logFormat: format as LogFormat,
    help: values.help,
    version: values.version,
  };
}
