import { cleanTerminalText } from './prompt.js';

/*
 * PAN-OS answers a refused command with one of these instead of output:
 * `Unknown command: foo` (first word not a command), `Invalid syntax.` (a known
 * command with wrong arguments), `Server error : ...` (the management server
 * failed or refused, e.g. on a passive unit), `Validation Error:` (configure mode).
 */
const ERROR_STARTS = [
  /^Unknown command\b/i,
  /^Invalid syntax\b/i,
  /^Server error\b/i,
  /^Validation Error\b/i,
  /^Invalid command\b/i,
  /^Command not (?:allowed|permitted)\b/i,
  /^Insufficient (?:privileges|permissions)\b/i,
];

const MAX_ERROR_CHARS = 500;

/**
 * The device's error text when `output` (one command's output, echo and prompt
 * already removed, raw or cleaned) is an error rather than a result; otherwise
 * undefined. Only the first non-blank line is examined: real output that merely
 * mentions an error word further down (a tunnel named "Server error") is not one.
 */
export function detectCliError(output: string): string | undefined {
  const lines = cleanTerminalText(output).split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) return undefined;
  const head = (lines[first] ?? '').trim();
  if (!ERROR_STARTS.some((re) => re.test(head))) return undefined;
  const text = lines
    .slice(first)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
