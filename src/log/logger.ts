import { pino, type Logger, type DestinationStream } from 'pino';

export type LogFormat = 'logfmt' | 'json';
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

const BARE = /^[^\s="\\]+$/;

function logfmtValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
  return BARE.test(s) ? s : JSON.stringify(s);
}

/** Renders pino's JSON lines as logfmt, the format Prometheus' own components log in. */
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
      const { time, level, msg, ...rest } = record;
      const parts = [`ts=${logfmtValue(time)}`, `level=${logfmtValue(level)}`];
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) parts.push(`${k}=${logfmtValue(v)}`);
      if (msg !== undefined) parts.push(`msg=${logfmtValue(msg)}`);
      out.write(`${parts.join(' ')}\n`);
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
