import { pino, type Logger, type DestinationStream } from 'pino';

export type LogFormat = 'logfmt' | 'json';
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

const BARE = /^[^\s="\\]+$/;

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
  return BARE.test(s) ? s : JSON.stringify(s);
}

/**
 * Renders pino's JSON lines as logfmt, the format Prometheus' own components log in.
 * Every probe writes through here, so the line is built in one pass over the parsed
 * record, without intermediate arrays or copies.
 */
function logfmtDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      let text = `ts=${logfmtValue(record.time)} level=${logfmtValue(record.level)}`;
      for (const k in record) {
        if (k === 'time' || k === 'level' || k === 'msg') continue;
        const v = record[k];
        if (v !== undefined) text += ` ${k}=${logfmtValue(v)}`;
      }
      if (record.msg !== undefined) text += ` msg=${logfmtValue(record.msg)}`;
      out.write(`${text}\n`);
    },
  };
}

export function createLogger(level: LogLevelName, format: LogFormat, out: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'logfmt' ? logfmtDestination(out) : (out as DestinationStream),
  );
}
