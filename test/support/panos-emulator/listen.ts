import type { AddressInfo } from 'node:net';

/** What both emulators' servers (ssh2's and node:https') offer for listening. */
interface Listener {
  once(event: 'error', cb: (err: Error) => void): unknown;
  listen(port: number, host: string, cb: () => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on an ephemeral port of 127.0.0.1 and returns the port. */
export async function listenOnLoopback(server: Listener): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('emulator has no TCP address');
  return address.port;
}
