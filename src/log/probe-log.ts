import type { Logger } from './logger.js';

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

/** A probe's captured lines, as the history, /logs and debug output read them. */
export interface CapturedLog {
  readonly entries: readonly ProbeLogEntry[];
  /** Lines past the capture bound: logged to the process log, not kept. */
  readonly dropped: number;
}

/**
 * Keeps a probe's own lines (for `debug=true`, the history and /logs) and forwards
 * them to the process logger. Capture is bounded: a chatty prober cannot grow it.
 */
export class CapturingProbeLog implements ProbeLog, CapturedLog {
  readonly entries: ProbeLogEntry[] = [];
  private droppedCount = 0;
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

  get dropped(): number {
    return this.droppedCount;
  }

  private write(level: LogLevel, msg: string, fields: LogFields): void {
    if (this.entries.length < MAX_ENTRIES) {
      this.entries.push({ elapsedMs: performance.now() - this.start, level, msg, fields });
    } else {
      this.droppedCount++;
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
