export type LogFormat = 'logfmt' | 'json';
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';
/** A line's fields: strings, numbers and booleans, or objects shown as their JSON (a probe's are LogFields, probe-log.ts). */
type LineFields = Readonly<Record<string, unknown>>;

/** The process log: one line per call, with the logger's bindings before the call's fields. */
export interface Logger {
  debug(fields: LineFields, msg: string): void;
  info(fields: LineFields, msg: string): void;
  warn(fields: LineFields, msg: string): void;
  error(fields: LineFields, msg: string): void;
  /** A logger whose every line also carries `bindings`. */
  child(bindings: LineFields): Logger;
}

/** Where lines go: process.stderr, or a test's sink. */
export interface LogOutput {
  write(line: string): unknown;
}

const RANK: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const BARE = /^[^\s="\\]+$/;

/**
 * Writes logfmt, the format Prometheus' own components log in, or JSON lines shaped as
 * pino wrote them (level, time, the fields, msg last). Each line is built in one pass
 * from the call's fields. The logger this replaces (pino) only writes JSON, so every
 * logfmt line was serialized, parsed back and built again: a third of a refused probe's
 * logging cost, for the default format.
 */
class LineLogger implements Logger {
  constructor(
    private readonly out: LogOutput,
    private readonly min: number,
    private readonly json: boolean,
    /** The bindings, already rendered as they go into every line. */
    private readonly bound: string,
  ) {}

  debug(fields: LineFields, msg: string): void {
    if (this.min <= 0) this.write('debug', fields, msg);
  }
  info(fields: LineFields, msg: string): void {
    if (this.min <= 1) this.write('info', fields, msg);
  }
  warn(fields: LineFields, msg: string): void {
    if (this.min <= 2) this.write('warn', fields, msg);
  }
  error(fields: LineFields, msg: string): void {
    if (this.min <= 3) this.write('error', fields, msg);
  }

  child(bindings: LineFields): Logger {
    return new LineLogger(this.out, this.min, this.json, this.bound + renderFields(bindings, this.json));
  }

  private write(level: LogLevelName, fields: LineFields, msg: string): void {
    const time = new Date().toISOString();
    const rest = this.bound + renderFields(fields, this.json);
    this.out.write(
      this.json ? `{"level":"${level}","time":"${time}"${rest},"msg":${JSON.stringify(msg)}}\n` : `ts=${time} level=${level}${rest} msg=${logfmtValue(msg)}\n`,
    );
  }
}

/** The fields as they follow the fixed part of a line: ` k=v` each, or `,"k":v` each. */
function renderFields(fields: LineFields, json: boolean): string {
  let text = '';
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    if (json) {
      const j = JSON.stringify(v);
      if (j !== undefined) text += `,${JSON.stringify(k)}:${j}`;
    } else {
      text += ` ${k}=${logfmtValue(v)}`;
    }
  }
  return text;
}

/** A value as logfmt shows it: bare when it can be, else a quoted JSON string; objects as their JSON. */
function logfmtValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number') s = Number.isFinite(v) ? String(v) : 'null';
  else if (v !== null && typeof v === 'object') {
    // An object whose JSON is a string (a Secret, a Date) shows as that string.
    const j = JSON.stringify(v) ?? 'null';
    s = j.startsWith('"') ? (JSON.parse(j) as string) : j;
  } else s = String(v);
  return BARE.test(s) ? s : JSON.stringify(s);
}

/** A batch is written at once past this size, without waiting for the end of the turn. */
const BATCH_MAX = 64 * 1024;

/**
 * The lines logged within one turn of the event loop, written together at its end: one
 * write(2) for all the probes that finished in that turn instead of one each. A write is
 * a system call that cost as much as the rest of a refused probe's logging on a loaded
 * exporter. Lines still wait for nothing but the end of the turn, and a batch still
 * pending when the process exits is written then, so only a crash of Node itself could
 * lose one turn's lines.
 */
class TurnBatchedOutput implements LogOutput {
  private pending = '';
  private scheduled = false;
  private readonly flushAtTurnEnd = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly out: LogOutput) {
    process.once('exit', () => this.flush());
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= BATCH_MAX) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushAtTurnEnd);
    }
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }
}

/** A logger writing to `out`, or to stderr in batches of one event-loop turn. */
export function createLogger(level: LogLevelName, format: LogFormat, out: LogOutput = new TurnBatchedOutput(process.stderr)): Logger {
  return new LineLogger(out, RANK[level], format === 'json', '');
}
