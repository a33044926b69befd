import type { ProbeLog } from '../../log/probe-log.js';
import { detectCliError } from './cli-error.js';
import { cleanTerminalText, PANOS_PROMPT_AT_END, parsePromptAtEnd, parsePromptLine, type PanosPrompt } from './prompt.js';
import type { InteractiveShell } from '../../transport/ssh/types.js';
import { errorMessage, ProbeError, ProtocolError } from '../../util/errors.js';

export interface PanosCliOptions {
  signal: AbortSignal;
  log: ProbeLog;
  /**
   * Sent once the first prompt shows. Refusals are logged, not fatal: a role without
   * `set cli` rights still gets its output, page by page.
   */
  setup?: string[];
}

/*
 * Only the pager stands between us and the output. Scripting mode and terminal width
 * are not known to change `show vpn flow` or `show system info`, and every setup
 * command costs a round trip on every probe, so they are left to `setup` to opt into.
 */
export const DEFAULT_SETUP = ['set cli pager off'];

const ANSI_TAIL = String.raw`(?:\x1b\[[0-?]*[ -/]*[@-~])*`;
const MORE_AT_END = new RegExp(String.raw`--more--[ \t]*${ANSI_TAIL}$`, 'i');
const PROMPT_OR_MORE = new RegExp(`(?:${PANOS_PROMPT_AT_END.source})|(?:${MORE_AT_END.source})`, 'i');
/** A runaway pager (a device that keeps paging) must not keep a probe busy forever. */
const MAX_PAGES = 10_000;

/**
 * The PAN-OS CLI over an interactive shell: waits out the login banner, turns the
 * pager off, then runs one command at a time and hands back only its output.
 */
export class PanosCliSession {
  private constructor(
    private readonly shell: InteractiveShell,
    private readonly log: ProbeLog,
    private current: PanosPrompt,
  ) {}

  /** Waits for the first prompt (skipping any banner) and runs the setup commands. */
  static async open(shell: InteractiveShell, opts: PanosCliOptions): Promise<PanosCliSession> {
    const started = performance.now();
    const raw = await guard(shell.readUntil(PANOS_PROMPT_AT_END, opts.signal), 'waiting for the first CLI prompt');
    const prompt = parsePromptAtEnd(raw);
    if (!prompt) throw new ProtocolError('PAN-OS CLI: first prompt matched but could not be read');
    opts.log.debug('panos cli prompt', {
      host: prompt.host,
      haState: prompt.haState,
      bannerChars: raw.length,
      waitedMs: Math.round(performance.now() - started),
    });
    const session = new PanosCliSession(shell, opts.log, prompt);
    for (const command of opts.setup ?? DEFAULT_SETUP) {
      try {
        await session.run(command, opts.signal);
      } catch (err) {
        if (!(err instanceof CliRefusal)) throw err;
        opts.log.warn('panos cli refused a setup command; paging defensively', { command, error: err.message });
      }
    }
    return session;
  }

  /** The most recent prompt: host, HA state (`active`, `passive`, ...) and mode. */
  get prompt(): PanosPrompt {
    return this.current;
  }

  /**
   * Runs one command and resolves with its output alone (no echo, no prompt, control
   * sequences removed, `\n` line ends). Rejects with a ProbeError carrying the device's
   * words when the CLI answers with an error.
   */
  async run(command: string, signal: AbortSignal): Promise<string> {
    if (/[\r\n]/.test(command)) throw new ProbeError('PAN-OS CLI: one command per line');
    this.shell.write(`${command}\n`);
    let raw = '';
    for (let pages = 0; ; pages++) {
      const chunk = await guard(this.shell.readUntil(PROMPT_OR_MORE, signal), `running \`${command}\``);
      if (!MORE_AT_END.test(chunk)) {
        raw += chunk;
        break;
      }
      if (pages >= MAX_PAGES) throw new ProtocolError(`PAN-OS CLI: \`${command}\` still paging after ${MAX_PAGES} pages`);
      raw += chunk.replace(MORE_AT_END, '');
      this.shell.write(' ');
    }
    const prompt = parsePromptAtEnd(raw);
    if (prompt) this.current = prompt;
    const output = stripEchoAndPrompt(cleanTerminalText(raw), command);
    const error = detectCliError(output);
    if (error !== undefined) throw new CliRefusal(`PAN-OS refused \`${command}\`: ${error}`, error);
    return output;
  }

  /** Leaves the CLI politely, then closes the channel. */
  close(): void {
    try {
      this.shell.write('exit\n');
    } finally {
      this.shell.close();
    }
  }
}

/** The device answered with an error text (kept in `cliError`). */
export class CliRefusal extends ProbeError {
  constructor(
    message: string,
    readonly cliError: string,
  ) {
    super(message);
  }
}

function stripEchoAndPrompt(text: string, command: string): string {
  const lines = text.split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (parsePromptLine(last.trim())) lines.pop();
  if ((lines[lines.length - 1] ?? '').trim() === '[edit]') lines.pop();
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && (lines[first] ?? '').trim().endsWith(command)) lines.splice(0, first + 1);
  while (lines.length > 0 && (lines[0] ?? '').trim() === '') lines.shift();
  while (lines.length > 0 && (lines[lines.length - 1] ?? '').trim() === '') lines.pop();
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** Names the step a transport failure interrupted, keeping its class (an abort stays an AbortedError). */
async function guard<T>(p: Promise<T>, step: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const message = `PAN-OS CLI: ${step}: ${errorMessage(err)}`;
    if (err instanceof ProbeError) {
      const Same = err.constructor as new (message: string, options?: { cause?: unknown; kind?: ProbeError['kind'] }) => ProbeError;
      throw new Same(message, { cause: err, kind: err.kind });
    }
    throw new ProbeError(message, { cause: err });
  }
}
