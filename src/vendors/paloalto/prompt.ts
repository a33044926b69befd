/**
 * PAN-OS prompts: `admin@fw01> ` in operational mode, `admin@fw01# ` in configure
 * mode, with the HA state in parentheses on clustered units (`admin@fw01(active)> `).
 * The user part may itself hold an `@` (`jdoe@corp.example@fw01>`), so the host is
 * taken after the last one.
 */

export interface PanosPrompt {
  user: string;
  host: string;
  haState?: string;
  mode: 'operational' | 'configure';
}

// Terminal control sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`) and the
// two-byte escapes. Only erase-line is acted on (below); the rest are dropped.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;
const ANSI_SRC = String.raw`(?:\x1b\[[0-?]*[ -/]*[@-~])*`;

const USER = String.raw`[^\s@<>#()]+(?:@[^\s@<>#()]+)*`;
// Older releases allowed spaces in hostnames.
const HOST = '[A-Za-z0-9._-]+(?: [A-Za-z0-9._-]+)*';
const HA = '[A-Za-z][A-Za-z0-9-]*';
const PROMPT_BODY = String.raw`(${USER})@(${HOST})(?:\((${HA})\))?([>#])`;

/**
 * A prompt at the very end of raw received text (control sequences allowed around it),
 * for `InteractiveShell.readUntil`.
 */
export const PANOS_PROMPT_AT_END = new RegExp(String.raw`(?:^|[\r\n])${ANSI_SRC}${PROMPT_BODY} ?${ANSI_SRC}$`);

const PROMPT_LINE = new RegExp(`^${PROMPT_BODY}(?: |$)`);

/** Parses the prompt at the end of `text`, or undefined when the text does not end with one. */
export function parsePromptAtEnd(text: string): PanosPrompt | undefined {
  const m = PANOS_PROMPT_AT_END.exec(text);
  return m ? toPrompt(m) : undefined;
}

/** A line of cleaned text that starts with a prompt (an echoed command line or a bare prompt). */
export function parsePromptLine(line: string): PanosPrompt | undefined {
  const m = PROMPT_LINE.exec(line);
  return m ? toPrompt(m) : undefined;
}

function toPrompt(m: RegExpExecArray): PanosPrompt {
  const [, user = '', host = '', haState, sign] = m;
  const prompt: PanosPrompt = { user, host, mode: sign === '#' ? 'configure' : 'operational' };
  if (haState !== undefined) prompt.haState = haState;
  return prompt;
}

/**
 * What a terminal would show: `\r\n` as `\n`, and within a line a lone `\r` returns
 * to its start, backspace steps back and `ESC[K` erases to its end, so later text
 * overwrites earlier text (how a pager erases its `--more--`). Other control
 * sequences and characters are dropped.
 */
export function cleanTerminalText(raw: string): string {
  return raw.replace(/\r+\n/g, '\n').split('\n').map(renderLine).join('\n');
}

const LINE_EDIT = /[\r\x08]|\x1b\[[02]?K/;
const LINE_TOKEN = /\x1b\[([02]?)K|\r|\x08|([^\r\x08\x1b]+)|\x1b/g;

function renderLine(line: string): string {
  if (!LINE_EDIT.test(line)) return stripControls(line);
  const withoutOtherAnsi = line.replace(ANSI, (seq) => (/^\x1b\[[02]?K$/.test(seq) ? seq : ''));
  let shown = '';
  let cursor = 0;
  for (const m of withoutOtherAnsi.matchAll(LINE_TOKEN)) {
    const [token, erase, text] = m;
    if (text !== undefined) {
      const printable = stripControls(text);
      shown = shown.slice(0, cursor).padEnd(cursor) + printable + shown.slice(cursor + printable.length);
      cursor += printable.length;
    } else if (token === '\r') cursor = 0;
    else if (token === '\x08') cursor = Math.max(0, cursor - 1);
    else if (erase === '2') shown = ''.padEnd(cursor);
    else if (erase !== undefined) shown = shown.slice(0, cursor);
  }
  return shown;
}

function stripControls(text: string): string {
  return text.replace(ANSI, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
