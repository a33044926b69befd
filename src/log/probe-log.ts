import type { Logger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface ProbeLogEntry {
  /** Milliseconds since the probe started. */
  elapsedMs: number;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** What probers and transports log through: every line carries the probe's target and module. */
export interface ProbeLog {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const MAX_ENTRIES = 500;

/**
 * Keeps a probe's own lines (for `debug=true`, the history and /logs) and forwards
 * them to the process logger. Capture is bounded: a chatty prober cannot grow it.
 */
export class CapturingProbeLog implements ProbeLog {
  readonly entries: ProbeLogEntry[] = [];
  private dropped = 0;
  private readonly start = performance.now();

  constructor(private readonly sink: Logger | undefined) {}

  debug(msg: string, fields: LogFields = {}): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields: LogFields = {}): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields: LogFields = {}): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields: LogFields = {}): void {
    this.write('error', msg, fields);
  }

  get droppedEntries(): number {
    return this.dropped;
  }

  private write(level: LogLevel, msg: string, fields: LogFields): void {
    if (this.entries.length < MAX_ENTRIES) {
      this.entries.push({ elapsedMs: performance.now() - this.start, level, msg, fields });
    } else {
      this.dropped++;
    }
    this.sink?.[level](fields, msg);
  }
}

/** A log that goes nowhere, for parsers' tests and benchmarks. */
export const silentProbeLog: ProbeLog = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
