import { renderGpCurrentUsers, renderGpStatistics, renderHaState, renderIkeSa, renderIpsecSa, renderSystemInfo, renderVpnFlow } from './render.js';
import type { PanosScenario } from './scenario.js';

/** What the CLI needs from its channel. */
export interface CliIo {
  write(text: string): void;
  /** Leave the way `exit` does: exit status, then channel close. */
  end(): void;
  /** Lose the connection without goodbye (a crash, a cut link). */
  drop(): void;
}

const MORE = '--more--';
// The pager erases its marker before the next page: return, then erase to end of line.
const ERASE_MORE = '\r\x1b[K';
// PAN-OS re-enables line wrap before command output.
const OUTPUT_PREFIX = '\x1b[?7h';
/** First words PAN-OS knows in operational mode; bad arguments to them are `Invalid syntax.` */
const KNOWN_VERBS = new Set([
  'show',
  'set',
  'request',
  'test',
  'debug',
  'clear',
  'ping',
  'traceroute',
  'configure',
  'exit',
  'quit',
  'delete',
  'less',
  'tail',
  'grep',
  'ssh',
  'telnet',
  'scp',
  'tftp',
  'ftp',
  'schedule',
  'find',
  'save',
  'load',
]);
const TERMINAL_WIDTH = { min: 80, max: 500 };

/**
 * One PAN-OS CLI session on a pty: echoes what is typed, runs a line on Enter, pages
 * long output until `set cli pager off`, and answers unknown input with the device's
 * error texts. Typed-ahead input waits until the CLI shows its next prompt, as the
 * real CLI only reads (and echoes) a line when it is ready for one.
 */
export class PanosCli {
  private mode: 'operational' | 'configure' = 'operational';
  private pager = true;
  private scriptingMode = false;
  private width = 80;
  private ready = false;
  private line = '';
  private pending = '';
  private paged: string[] | undefined;
  private lastWasCr = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly s: PanosScenario,
    private readonly io: CliIo,
    private rows: number,
    /** Receives every command line the CLI runs, for tests. */
    private readonly history: string[] = [],
    /** Called each time output stops at `--more--`. */
    private readonly onPause: () => void = () => {},
  ) {}

  start(): void {
    this.io.write(this.s.banner.replace(/\n/g, '\r\n'));
    if (this.s.faults?.neverPrompt) return;
    this.timer = setTimeout(() => this.showPrompt(), this.s.promptDelayMs);
  }

  resize(rows: number): void {
    this.rows = rows;
  }

  dispose(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  get settings(): { pager: boolean; scriptingMode: boolean; width: number } {
    return { pager: this.pager, scriptingMode: this.scriptingMode, width: this.width };
  }

  input(data: string): void {
    for (const ch of data) {
      if (this.closed) return;
      if (this.paged) this.pagerKey(ch);
      else if (!this.ready) this.pending += ch;
      else this.key(ch);
    }
  }

  private key(ch: string): void {
    const wasCr = this.lastWasCr;
    this.lastWasCr = ch === '\r';
    if (ch === '\n' && wasCr) return;
    if (ch === '\r' || ch === '\n') {
      this.io.write('\r\n');
      const line = this.line;
      this.line = '';
      this.ready = false;
      this.run(line.trim().replace(/\s+/g, ' '));
    } else if (ch === '\x7f' || ch === '\b') {
      if (this.line.length > 0) {
        this.line = this.line.slice(0, -1);
        this.io.write('\b \b');
      }
    } else if (ch >= ' ') {
      this.line += ch;
      this.io.write(ch);
    }
  }

  private pagerKey(ch: string): void {
    const rest = this.paged ?? [];
    if (ch === 'q') {
      this.paged = undefined;
      this.io.write(ERASE_MORE);
      this.showPrompt();
    } else if (ch === ' ') {
      this.paged = undefined;
      this.io.write(ERASE_MORE);
      this.page(rest, this.rows - 1);
    } else if (ch === '\r' || ch === '\n') {
      this.paged = undefined;
      this.io.write(ERASE_MORE);
      this.page(rest, 1);
    }
  }

  private run(cmd: string): void {
    // The line is received now (and recorded), answered after the device's delay.
    this.history.push(cmd);
    const delay = this.s.faults?.commandDelayMs;
    if (delay !== undefined && cmd !== '') {
      this.timer = setTimeout(() => this.runNow(cmd), delay);
      return;
    }
    this.runNow(cmd);
  }

  private runNow(cmd: string): void {
    if (this.closed) return;
    const refused = this.s.faults?.refuse?.[cmd];
    if (refused !== undefined) {
      this.output([refused]);
      return;
    }
    if (cmd === '') {
      this.showPrompt();
      return;
    }
    if (this.mode === 'configure') {
      this.runConfigure(cmd);
      return;
    }
    this.runOperational(cmd);
  }

  private runConfigure(cmd: string): void {
    if (cmd === 'exit' || cmd === 'quit') {
      this.mode = 'operational';
      this.output(['Exiting configuration mode']);
      return;
    }
    if (cmd.startsWith('run ')) {
      this.runOperational(cmd.slice(4));
      return;
    }
    this.output(['Invalid syntax.']);
  }

  private runOperational(cmd: string): void {
    const words = cmd.split(' ');
    const setCli = /^set cli (pager|scripting-mode) (on|off)$/.exec(cmd);
    const width = /^set cli terminal width (\d+)$/.exec(cmd);
    if (cmd === 'exit' || cmd === 'quit') {
      this.closed = true;
      this.io.end();
    } else if (setCli) {
      if (setCli[1] === 'pager') this.pager = setCli[2] === 'on';
      else this.scriptingMode = setCli[2] === 'on';
      this.showPrompt();
    } else if (width && Number(width[1]) >= TERMINAL_WIDTH.min && Number(width[1]) <= TERMINAL_WIDTH.max) {
      this.width = Number(width[1]);
      this.showPrompt();
    } else if (cmd === 'show system info') {
      this.output(renderSystemInfo(this.s, new Date()), cmd);
    } else if (cmd === 'show vpn flow') {
      this.output(renderVpnFlow(this.s), cmd);
    } else if (cmd === 'show vpn ike-sa') {
      this.output(renderIkeSa(this.s), cmd);
    } else if (cmd === 'show vpn ipsec-sa') {
      this.output(renderIpsecSa(this.s), cmd);
    } else if (cmd === 'show high-availability state') {
      this.output(renderHaState(this.s), cmd);
    } else if (cmd === 'show global-protect-gateway current-user') {
      this.output(renderGpCurrentUsers(this.s, new Date()), cmd);
    } else if (cmd === 'show global-protect-gateway statistics') {
      this.output(renderGpStatistics(this.s), cmd);
    } else if (cmd === 'configure') {
      this.mode = 'configure';
      this.output(['Entering configuration mode']);
    } else if (KNOWN_VERBS.has(words[0] ?? '')) {
      this.output(['Invalid syntax.']);
    } else {
      this.output([`Unknown command: ${words[0] ?? ''}`]);
    }
  }

  private output(lines: string[], cmd?: string): void {
    const drop = this.s.faults?.dropDuring;
    if (drop && cmd === drop.command) {
      this.io.write(
        OUTPUT_PREFIX +
          lines
            .slice(0, drop.afterLines)
            .map((l) => `${l}\r\n`)
            .join(''),
      );
      this.closed = true;
      this.io.drop();
      return;
    }
    this.io.write(OUTPUT_PREFIX);
    this.page(lines, this.rows - 1);
  }

  private page(lines: string[], count: number): void {
    if (!this.pager || lines.length <= count) {
      this.io.write(lines.map((l) => `${l}\r\n`).join(''));
      this.showPrompt();
      return;
    }
    this.io.write(
      lines
        .slice(0, count)
        .map((l) => `${l}\r\n`)
        .join('') + MORE,
    );
    this.paged = lines.slice(count);
    this.onPause();
  }

  private showPrompt(): void {
    if (this.closed) return;
    const ha = this.s.haState ? `(${this.s.haState})` : '';
    const context = this.mode === 'configure' ? '[edit]\r\n' : '';
    this.io.write(`${context}${this.s.username}@${this.s.hostname}${ha}${this.mode === 'configure' ? '#' : '>'} `);
    this.ready = true;
    const typedAhead = this.pending;
    this.pending = '';
    if (typedAhead) this.input(typedAhead);
  }
}
