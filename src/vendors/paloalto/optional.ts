import { z } from 'zod';
import type { ProbeLog } from '../../log/probe-log.js';
import { ParseError } from '../../util/errors.js';

/** Options both PAN-OS probers share: the bound on each answer and the optional commands, each on by default. */
export const panosDetailOptions = {
  /** `show high-availability state`: HA metrics, and tunnels on a passive unit as standby. */
  high_availability: z.boolean().default(true),
  /** `show vpn ike-sa` and `show vpn ipsec-sa`: SA detail per gateway and per proxy-id. */
  sa_detail: z.boolean().default(true),
  /** `show global-protect-gateway current-user` and `statistics`: GlobalProtect users as sessions. */
  globalprotect: z.boolean().default(true),
};

/** Bound on what one command answers (CLI output, or one HTTP body). */
export const panosMaxBytes = z
  .number()
  .int()
  .min(4096)
  .max(64 << 20)
  .default(4 << 20);

export interface OptionalContext<T> {
  log: ProbeLog;
  /** Records, per command (CLI words), whether it answered and was read. */
  commands: Record<string, boolean>;
  /** The device's words when `err` is the device refusing the command; undefined for any other error. */
  refusal: (err: unknown) => string | undefined;
  /** The answer when a refusal means "nothing of this kind here" (a unit without GlobalProtect). */
  empty?: (deviceWords: string) => T | undefined;
}

/**
 * Runs a command whose answer only adds detail: a refusal or an answer the parser cannot
 * read is logged and recorded as a failed command, and the probe goes on with what it has.
 * Transport failures and aborts still end the probe.
 */
export async function optionalCommand<T>(command: string, run: () => Promise<T>, ctx: OptionalContext<T>): Promise<T | undefined> {
  try {
    const value = await run();
    ctx.commands[command] = true;
    return value;
  } catch (err) {
    const words = ctx.refusal(err);
    if (words === undefined && !(err instanceof ParseError)) throw err;
    const empty = words === undefined ? undefined : ctx.empty?.(words);
    if (empty !== undefined) {
      ctx.log.debug('panos command answered "none here"', { command, answer: words });
      ctx.commands[command] = true;
      return empty;
    }
    ctx.log.warn('panos optional command failed; probing on without it', { command, error: (err as Error).message });
    ctx.commands[command] = false;
    return undefined;
  }
}
