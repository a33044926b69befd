import { ParseError } from '../../util/errors.js';
import { cleanTerminalText, parsePromptLine } from './prompt.js';

/** `show system info`: one `key: value` per line (values may be empty or hold colons). */
export interface PanosSystemInfo {
  hostname?: string;
  ipAddress?: string;
  model?: string;
  serial?: string;
  swVersion?: string;
  family?: string;
  /** From `uptime: N days, H:MM:SS`; absent when the value is in another form. */
  uptimeSeconds?: number;
  haState?: string;
  /** Every key as printed, for fields not lifted above. */
  fields: Record<string, string>;
}

const FIELD = /^([a-z0-9][a-z0-9_-]*):(?: (.*))?$/i;
const UPTIME = /^(\d+)\s+days?,\s+(\d+):([0-5]\d):([0-5]\d)$/;
/** The fields a real `show system info` always carries; without any of them this is other text. */
const IDENTITY_KEYS = ['hostname', 'model', 'sw-version', 'serial'];

export function parseSystemInfo(text: string): PanosSystemInfo {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const rawLine of cleanTerminalText(text).split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line === 'show system info' || parsePromptLine(line)) continue;
    const m = FIELD.exec(line);
    if (!m) continue;
    const key = (m[1] ?? '').toLowerCase();
    if (!(key in fields)) fields[key] = (m[2] ?? '').trim();
  }
  return systemInfoFromFields(fields, 'not `show system info` output: no hostname, model, serial or sw-version line');
}

/**
 * The record from `key -> value` as the device names them, however it printed them (CLI
 * lines, XML elements). Without any identity field this was other text: `missing` says so.
 */
export function systemInfoFromFields(fields: Record<string, string>, missing: string): PanosSystemInfo {
  if (!IDENTITY_KEYS.some((k) => k in fields)) throw new ParseError(missing);
  const info: PanosSystemInfo = { fields: { ...fields } };
  const set = (prop: 'hostname' | 'ipAddress' | 'model' | 'serial' | 'swVersion' | 'family' | 'haState', key: string) => {
    const v = fields[key];
    if (v !== undefined && v !== '') info[prop] = v;
  };
  set('hostname', 'hostname');
  set('ipAddress', 'ip-address');
  set('model', 'model');
  set('serial', 'serial');
  set('swVersion', 'sw-version');
  set('family', 'family');
  set('haState', 'ha-state');
  const uptime = fields.uptime;
  if (uptime !== undefined) {
    const u = UPTIME.exec(uptime);
    if (u) {
      const [d, h, m, s] = u.slice(1).map(Number) as [number, number, number, number];
      info.uptimeSeconds = d * 86400 + h * 3600 + m * 60 + s;
    }
  }
  return info;
}
