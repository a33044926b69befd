import { randomBytes } from 'node:crypto';
import type { ProbeLog } from '../../log/probe-log.js';
import type { SshEndpoint, SshTransport } from './types.js';
import { ProbeError, ProtocolError } from '../../util/errors.js';

export interface RemoteSection {
  id: string;
  /** A shell command line; callers quote their arguments with shellQuote. */
  command: string;
}

export interface SectionResult {
  output: string;
  exitCode: number;
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell script that runs every section and frames each one's output with a
 * boundary chosen per probe, so file contents cannot forge a frame.
 */
export function buildSectionScript(sections: readonly RemoteSection[], boundary: string): string {
  // Non-root SSH sessions on Debian and others lack the sbin directories, where ipsec and openvpn live.
  return (
    'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH; ' +
    sections
      .map((s) => `printf '\\n%s begin %s\\n' ${boundary} ${s.id}; { ${s.command}; } 2>&1; printf '\\n%s end %s %s\\n' ${boundary} ${s.id} "$?"`)
      .join('; ')
  );
}

/** Splits the script's output back into sections. Pure; throws ProtocolError on a broken frame. */
export function splitSections(output: string, boundary: string, ids: readonly string[]): Map<string, SectionResult> {
  const results = new Map<string, SectionResult>();
  let pos = 0;
  for (const id of ids) {
    const begin = `\n${boundary} begin ${id}\n`;
    const start = output.indexOf(begin, pos);
    if (start < 0) throw new ProtocolError(`remote output lacks the start of section ${id}`);
    const bodyStart = start + begin.length;
    const endMark = `\n${boundary} end ${id} `;
    const end = output.indexOf(endMark, bodyStart);
    if (end < 0) throw new ProtocolError(`remote output lacks the end of section ${id}`);
    const codeEnd = output.indexOf('\n', end + endMark.length);
    const codeText = codeEnd < 0 ? '' : output.slice(end + endMark.length, codeEnd);
    if (!/^\d{1,3}$/.test(codeText)) throw new ProtocolError(`section ${id} has no exit code`);
    // The script adds one newline before the end mark; the body's own final newline stays.
    results.set(id, { output: output.slice(bodyStart, end), exitCode: Number(codeText) });
    pos = codeEnd;
  }
  return results;
}

/** Runs several commands in one SSH exec (one round trip on a pooled connection). */
export async function runSections(
  ssh: SshTransport,
  endpoint: SshEndpoint,
  sections: readonly RemoteSection[],
  opts: { signal: AbortSignal; log: ProbeLog; maxOutputBytes: number },
): Promise<Map<string, SectionResult>> {
  const boundary = `vpnx-${randomBytes(12).toString('hex')}`;
  const result = await ssh.exec(endpoint, buildSectionScript(sections, boundary), opts);
  if (result.exitCode !== 0 && result.stdout.length === 0) {
    throw new ProbeError(`remote shell failed (exit ${result.exitCode ?? result.exitSignal}): ${result.stderr.trim().slice(0, 300)}`, {
      kind: 'command_failed',
    });
  }
  try {
    return splitSections(
      result.stdout,
      boundary,
      sections.map((s) => s.id),
    );
  } catch (err) {
    // Output cut short with no exit status: the session died under the commands (sshd killed, link lost).
    if (err instanceof ProtocolError && result.exitCode === null && result.exitSignal === undefined) {
      throw new ProbeError('the ssh session closed before the remote commands finished', { cause: err, kind: 'connection_lost' });
    }
    throw err;
  }
}
