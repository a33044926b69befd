import net from 'node:net';
import type { ProbeLog } from '../log/probe-log.js';
import { abortReason, onAbort } from '../util/abort.js';
import { ProbeError } from '../util/errors.js';

export interface TcpConnectOptions {
  host: string;
  port: number;
  signal: AbortSignal;
  log: ProbeLog;
}

/**
 * A connected TCP socket (Nagle off: every protocol here is request/answer), or the
 * reason there is none. The signal covers only the connect; the caller owns the socket
 * from here on.
 */
export function connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
  const where = `${opts.host}:${opts.port}`;
  const started = performance.now();
  if (opts.signal.aborted) return Promise.reject(abortReason(opts.signal));
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const settle = (err: Error | undefined): void => {
      dispose();
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (err !== undefined) {
        // A late error from the abandoned socket must not become an uncaught exception.
        socket.on('error', () => {});
        socket.destroy();
        reject(err);
        return;
      }
      opts.log.debug('tcp connected', { target: where, ms: Math.round(performance.now() - started) });
      resolve(socket);
    };
    const onConnect = (): void => settle(undefined);
    const onError = (err: NodeJS.ErrnoException): void => settle(socketError(err, where));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    const dispose = onAbort(opts.signal, (reason) => settle(reason));
  });
}

/** A socket error in words for people; the errno stays in the cause for classifying. */
export function socketError(err: NodeJS.ErrnoException, where: string): ProbeError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ProbeError(`connection refused by ${where}`, { cause: err });
    case 'ECONNRESET':
      return new ProbeError(`connection reset by ${where}`, { cause: err });
    case 'EPIPE':
      return new ProbeError(`connection closed by ${where} while sending`, { cause: err });
    default:
      return new ProbeError(`connection to ${where} failed: ${err.message}`, { cause: err });
  }
}
