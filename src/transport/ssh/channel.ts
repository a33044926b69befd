import type { ClientChannel } from 'ssh2';
import { onAbort } from '../../util/abort.js';
import { ProbeError, errorMessage } from '../../util/errors.js';

export type ChannelCallback = (err: Error | undefined, channel: ClientChannel) => void;

/** The connection under the channel request was already gone: worth one retry on a new one. */
export class ConnectionLostError extends ProbeError {
  override readonly name: string = 'ConnectionLostError';
}

/**
 * The server said no to the channel itself (SSH_MSG_CHANNEL_OPEN_FAILURE), typically its
 * per-connection session limit (OpenSSH MaxSessions; appliances often allow one).
 */
export class ChannelRefusedError extends ProbeError {
  override readonly name: string = 'ChannelRefusedError';
}

/** ssh2's own wording when the socket went away under a pending or new request. */
const LOST = new Set(['Not connected', 'No response from server']);

/**
 * Asks for a channel and waits for the server's answer or the signal. A channel
 * granted after the caller gave up is closed on arrival.
 */
export function requestChannel(what: string, signal: AbortSignal, start: (cb: ChannelCallback) => void): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let waiting = true;
    const dispose = onAbort(signal, (reason) => {
      if (!waiting) return;
      waiting = false;
      reject(reason);
    });
    if (!waiting) return;
    const callback: ChannelCallback = (err, channel) => {
      if (!waiting) {
        if (!err) channel.close();
        return;
      }
      waiting = false;
      dispose();
      if (err) reject(channelError(what, err));
      else resolve(channel);
    };
    try {
      start(callback);
    } catch (err) {
      waiting = false;
      dispose();
      reject(channelError(what, err));
    }
  });
}

function channelError(what: string, err: unknown): ProbeError {
  const msg = errorMessage(err);
  if (LOST.has(msg)) return new ConnectionLostError(`${what}: connection lost (${msg})`, { cause: err });
  if (msg.startsWith('(SSH) Channel open failure')) return new ChannelRefusedError(`${what} refused: ${msg}`, { cause: err });
  return new ProbeError(`${what} refused: ${msg}`, { cause: err });
}
