import { stringify } from 'yaml';
import type { ProbeLogEntry } from '../log/probe-log.js';
import type { ModuleConfig } from '../config/config.js';

function formatFields(fields: ProbeLogEntry['fields']): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** One probe log line as people read it: offset from the probe's start, level, message, fields. */
export function formatLogEntry(e: ProbeLogEntry): string {
  const fields = formatFields(e.fields);
  return `+${(e.elapsedMs / 1000).toFixed(3)}s ${e.level.padEnd(5)} ${e.msg}${fields ? ' ' + fields : ''}`;
}

/** The `debug=true` answer, in the spirit of blackbox_exporter's: logs, metrics, module. */
export function renderDebugOutput(entries: readonly ProbeLogEntry[], metricsText: string, module: ModuleConfig): string {
  return [
    'Logs for the probe:',
    ...entries.map(formatLogEntry),
    '',
    '',
    'Metrics that would have been returned:',
    metricsText.trimEnd(),
    '',
    '',
    `Module configuration (${module.name}), secrets redacted:`,
    stringify(module.display).trimEnd(),
    '',
  ].join('\n');
}
