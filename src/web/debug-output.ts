import { stringify } from 'yaml';
import type { ModuleConfig } from '../config/config.js';
import type { MetricSet } from '../exposition/metric-set.js';
import type { CapturedLog, ProbeLogEntry } from '../log/probe-log.js';

function formatFields(fields: ProbeLogEntry['fields']): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** One probe log line as people read it: offset from the probe's start, level, message, fields. */
export function formatLogEntry(e: ProbeLogEntry): string {
  const fields = formatFields(e.fields);
  return `+${(e.elapsedMs / 1000).toFixed(3)}s ${e.level.padEnd(5)} ${e.msg}${fields ? ` ${fields}` : ''}`;
}

/** Says how many lines the capture bound left out, so a cut log never passes for a whole one. */
export function droppedNote(dropped: number): string {
  return dropped > 0 ? `\n(${dropped} more line${dropped === 1 ? '' : 's'} not kept: the probe log keeps the first ones; the process log has all)` : '';
}

/** The `debug=true` answer, in the spirit of blackbox_exporter's: logs, metrics, module. */
export function renderDebugOutput(log: CapturedLog, metrics: MetricSet, module: ModuleConfig): string {
  const { detail, userLabels, maxUsers } = module.exposition;
  return [
    'Logs for the probe:',
    ...log.entries.map(formatLogEntry),
    ...(log.dropped > 0 ? [droppedNote(log.dropped).trimStart()] : []),
    '',
    '',
    'Metrics that would have been returned:',
    metrics.render().trimEnd(),
    '',
    '',
    `Series: ${metrics.seriesCount} (detail ${detail}, user_labels ${userLabels}${maxUsers === undefined ? '' : `, max_users ${maxUsers}`})`,
    '',
    '',
    `Module configuration (${module.name}), secrets redacted:`,
    stringify(module.display).trimEnd(),
    '',
  ].join('\n');
}
