import { parseArgs } from 'node:util';
import type { LogFormat, LogLevelName } from '../log/logger.js';

export interface Flags {
  listenHost: string | undefined;
  listenPort: number;
  configFile: string;
  configCheck: boolean;
  webConfigFile: string | undefined;
  timeoutOffsetSeconds: number;
  historyLimit: number;
  maxConcurrency: number;
  maxPerTarget: number;
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
  --timeout-offset=SECONDS          subtracted from Prometheus' scrape timeout (default 0.5)
  --history.limit=N                 probes kept for the web UI's history and logs (default 100)
  --probe.max-concurrency=N         probes running at once; more wait within their timeout (default 200)
  --probe.max-per-target=N          probes running at once against one target (default 2)
  --log.level=debug|info|warn|error (default "info")
  --log.format=logfmt|json          (default "logfmt")
  --version                         print the version and exit
  --help                            print this help and exit
`;

/** Splits "[host]:port", ":port" or "host:port"; an empty host means every address. */
export function parseListenAddress(text: string): { host: string | undefined; port: number } | string {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (!m) return `--web.listen-address "${text}" is not [host]:port`;
  const port = Number(m[3]);
  if (port > 65535) return `--web.listen-address "${text}" has a port outside 0-65535`;
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** Prometheus-style flags; returns Flags or the reason they are wrong. */
export function parseFlags(argv: string[]): Flags | string {
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
        'timeout-offset': { type: 'string', default: '0.5' },
        'history.limit': { type: 'string', default: '100' },
        'probe.max-concurrency': { type: 'string', default: '200' },
        'probe.max-per-target': { type: 'string', default: '2' },
        'log.level': { type: 'string', default: 'info' },
        'log.format': { type: 'string', default: 'logfmt' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const listen = parseListenAddress(values['web.listen-address']);
  if (typeof listen === 'string') return listen;
  const offset = Number(values['timeout-offset']);
  if (!Number.isFinite(offset) || offset < 0) return `--timeout-offset must be a number of seconds >= 0`;
  const historyLimit = Number(values['history.limit']);
  if (!Number.isInteger(historyLimit) || historyLimit < 1) return `--history.limit must be a whole number >= 1`;
  const maxConcurrency = Number(values['probe.max-concurrency']);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) return `--probe.max-concurrency must be a whole number >= 1`;
  const maxPerTarget = Number(values['probe.max-per-target']);
  if (!Number.isInteger(maxPerTarget) || maxPerTarget < 1) return `--probe.max-per-target must be a whole number >= 1`;
  const level = values['log.level'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) return `--log.level must be debug, info, warn or error`;
  const format = values['log.format'];
  if (!['logfmt', 'json'].includes(format)) return `--log.format must be logfmt or json`;
  return {
    listenHost: listen.host,
    listenPort: listen.port,
    configFile: values['config.file'],
    configCheck: values['config.check'],
    webConfigFile: values['web.config.file'] || undefined,
    timeoutOffsetSeconds: offset,
    historyLimit,
    maxConcurrency,
    maxPerTarget,
    logLevel: level as LogLevelName,
    logFormat: format as LogFormat,
    help: values.help,
    version: values.version,
  };
}
