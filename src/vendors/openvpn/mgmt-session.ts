import type { Duplex } from 'node:stream';
import { LineConnection } from '../../transport/lines.js';
import type { ProbeLog } from '../../log/probe-log.js';
import { ProbeError, ProbeTimeoutError, ProtocolError, SizeLimitError, errorMessage } from '../../util/errors.js';

export interface ManagementLimits {
  /** Everything the interface may send in one session. */
  maxResponseBytes: number;
  /** Real-time `>` notifications skipped per session before it counts as a flood. */
  maxNotifications: number;
}

/** OpenVPN's own limit on a management line is far lower; a status row is a few hundred bytes. */
const MAX_LINE_BYTES = 64 * 1024;
const PROMPT = 'ENTER PASSWORD:';

/**
 * One conversation with OpenVPN's management interface (doc/management-notes.txt): the
 * greeting (`>INFO:...`), or the `ENTER PASSWORD:` prompt answered from the module's secret,
 * then commands, each answered by `SUCCESS:`/`ERROR:` or by lines up to `END`. Real-time
 * notifications (`>LOG:`, `>CLIENT:`, `>BYTECOUNT:` ...) may arrive at any time and are skipped,
 * up to a bound. The interface serves one client at a time: close() says `quit` after the last
 * answer, so the next client (another probe, an operator) gets it at once.
 */
export class ManagementSession {
  private notifications = 0;
  /** Commands sent ahead by pipeline() whose answers are still to be read. */
  private readonly sent: string[] = [];

  private constructor(
    private readonly conn: LineConnection,
    private readonly log: ProbeLog,
    private readonly limits: ManagementLimits,
  ) {}

  /** Owns `stream` from here on: closed on failure, or by close(). */
  static async open(
    stream: Duplex,
    where: string,
    opts: { password?: string; signal: AbortSignal; log: ProbeLog; limits: ManagementLimits },
  ): Promise<ManagementSession> {
    const conn = new LineConnection(stream, `management interface ${where}`, { maxLineBytes: MAX_LINE_BYTES, maxTotalBytes: opts.limits.maxResponseBytes });
    const session = new ManagementSession(conn, opts.log, opts.limits);
    try {
      await step(session.greet(opts.password, opts.signal), 'waiting for its greeting (it serves one client at a time: is another one connected?)', conn.where);
    } catch (err) {
      conn.close();
      throw err;
    }
    return session;
  }

  /**
   * Sends commands in one write, so their answers need one round trip, not one each; read
   * them with lines() and success() in the same order. The interface reads its input line by
   * line and answers in order. Never `quit` here: OpenVPN would drop the answers before it.
   */
  pipeline(commands: readonly string[]): void {
    this.conn.write(commands.map((c) => `${c}\n`).join(''));
    this.sent.push(...commands);
  }

  /** A command answered by lines up to END (`version`, `state`, `status 3`); the lines without END. */
  async lines(command: string, signal: AbortSignal): Promise<string[]> {
    const started = performance.now();
    this.send(command);
    const out: string[] = [];
    for (;;) {
      const line = await this.answerLine(command, signal);
      if (line === 'END') break;
      if (out.length === 0 && line.startsWith('ERROR:')) throw failed(command, line);
      out.push(line);
    }
    this.log.debug('management command', { command, lines: out.length, ms: Math.round(performance.now() - started) });
    return out;
  }

  /** A command answered by one `SUCCESS: text` line (`load-stats`, `pid`); the text. */
  async success(command: string, signal: AbortSignal): Promise<string> {
    const started = performance.now();
    this.send(command);
    for (;;) {
      const line = await this.answerLine(command, signal);
      if (line.startsWith('ERROR:')) throw failed(command, line);
      if (line.startsWith('SUCCESS:')) {
        this.log.debug('management command', { command, ms: Math.round(performance.now() - started) });
        return line.slice('SUCCESS:'.length).trim();
      }
      // Not an answer to this command (a stray line); skipped like a notification.
      this.skip(line);
    }
  }

  private send(command: string): void {
    if (this.sent[0] === command) this.sent.shift();
    else if (this.sent.length > 0) throw new Error(`bug: reading "${command}" while "${this.sent[0]}" is pipelined ahead of it`);
    else this.conn.write(`${command}\n`);
  }

  /** `quit` and close at once; never throws. */
  close(): void {
    this.conn.close('quit\n');
  }

  private async greet(password: string | undefined, signal: AbortSignal): Promise<void> {
    let answered = false;
    for (;;) {
      const line = await this.conn.readLine(signal, PROMPT);
      if (line.startsWith('>INFO:')) {
        this.log.debug('management greeting', { password_asked: answered });
        return;
      }
      if (line === PROMPT) {
        if (answered) throw refused();
        if (password === undefined) {
          throw new ProbeError('the management interface asks for a password and the module has none (set password)', { kind: 'auth_failed' });
        }
        // The secret goes on the wire and nowhere else: never into a log line or an error.
        this.conn.write(`${password}\n`);
        answered = true;
        continue;
      }
      if (answered && line.startsWith('SUCCESS:')) continue;
      if (answered && line.startsWith('ERROR:')) throw refused();
      if (line.startsWith('>')) {
        this.skip(line);
        continue;
      }
      throw new ProtocolError(`not an OpenVPN management interface: it sent ${JSON.stringify(line.slice(0, 60))} before any greeting`);
    }
  }

  /** The next line that is not a real-time notification. */
  private async answerLine(command: string, signal: AbortSignal): Promise<string> {
    for (;;) {
      const line = await step(this.conn.readLine(signal), `waiting for the answer to "${command}"`, this.conn.where);
      if (!line.startsWith('>')) return line;
      this.skip(line);
    }
  }

  private skip(line: string): void {
    if (++this.notifications > this.limits.maxNotifications) {
      throw new SizeLimitError(`the management interface sent more than ${this.limits.maxNotifications} notifications in one probe`);
    }
    if (this.notifications <= 3) this.log.debug('management notification skipped', { line: line.slice(0, 80) });
  }
}

function refused(): ProbeError {
  return new ProbeError('the management interface refused the password', { kind: 'auth_failed' });
}

function failed(command: string, line: string): ProbeError {
  return new ProbeError(`management command "${command}" failed: ${line.slice(0, 200)}`, { kind: 'command_failed' });
}

/** A timeout names the step it cut short; other failures pass unchanged. */
async function step<T>(work: Promise<T>, what: string, where: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ProbeTimeoutError) throw new ProbeTimeoutError(`${where}: ${what}: ${errorMessage(err)}`, { cause: err });
    throw err;
  }
}
