// A fake OpenVPN management interface on loopback for unit tests: the dialogue of manage.c
// (greeting, password prompt, SUCCESS/ERROR, END), one client at a time like the real one,
// answers from the hand-written fixtures, and hostile modes a real daemon never shows.
import { readFileSync } from 'node:fs';
import net from 'node:net';

export type MgmtMode =
  /** The documented dialogue, with a notification before each answer. */
  | 'normal'
  /** Binary garbage instead of a greeting. */
  | 'garbage'
  /** A greeting, then one line that never ends. */
  | 'endless-line'
  /** Accepts and says nothing. */
  | 'hang'
  /** Greets, then answers `status 3` with notifications forever. */
  | 'notification-flood';

export interface FakeMgmtServer {
  readonly host: string;
  readonly port: number;
  /** Clients connected now (the one served and those waiting). */
  connections(): number;
  /** Every line clients sent, the password included (the test searches for it elsewhere). */
  readonly received: string[];
  close(): Promise<void>;
}

const FIXTURES = 'test/fixtures/openvpn';
const fixture = (name: string) => readFileSync(`${FIXTURES}/${name}`, 'utf8');

/** status 3 is the daemon's status file format; a fresh TIME keeps the answer live. */
function status3(): string {
  const now = Math.floor(Date.now() / 1000);
  return fixture('v3-tcp-2.6.status')
    .replace(/^TIME\t([^\t]*)\t\d+$/m, `TIME\t$1\t${now}`)
    .replace(/\n/g, '\r\n');
}

/** On loopback TCP, or on a unix socket at `path` (`management PATH unix`). */
export async function startFakeMgmtServer(opts: { mode?: MgmtMode; password?: string; path?: string } = {}): Promise<FakeMgmtServer> {
  const mode = opts.mode ?? 'normal';
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  /** Like OpenVPN: the next client is greeted only when the one before has gone. */
  const queue: net.Socket[] = [];
  let serving: net.Socket | undefined;

  const serveNext = (): void => {
    while (!serving) {
      const next = queue.shift();
      if (!next) return;
      if (next.destroyed) continue;
      serving = next;
      next.once('close', () => {
        serving = undefined;
        serveNext();
      });
      converse(next);
    }
  };

  const converse = (socket: net.Socket): void => {
    const send = (text: string) => {
      if (!socket.destroyed) socket.write(text);
    };
    const greet = () => send(">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n");
    switch (mode) {
      case 'garbage':
        send(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x0a]).toString('latin1'));
        return;
      case 'hang':
        return;
      case 'endless-line': {
        greet();
        const chunk = 'x'.repeat(16 * 1024);
        const pump = () => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
        return;
      }
    }
    let verified = opts.password === undefined;
    if (verified) greet();
    else send('ENTER PASSWORD:');
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        received.push(line);
        if (!verified) {
          if (line === opts.password) {
            verified = true;
            send('SUCCESS: password is correct\r\n');
            greet();
          } else {
            send('ERROR: bad password\r\nENTER PASSWORD:');
          }
          continue;
        }
        answer(line, send, socket);
      }
    });
  };

  const answer = (line: string, send: (t: string) => void, socket: net.Socket): void => {
    // Real-time notifications may come before any answer.
    send('>BYTECOUNT_CLI:0,2170,2237\r\n');
    switch (line) {
      case 'version':
        send(fixture('mgmt/version-2.6.txt'));
        return;
      case 'state':
        send(fixture('mgmt/state-server-2.6.txt'));
        return;
      case 'load-stats':
        send(fixture('mgmt/load-stats-2.6.txt'));
        return;
      case 'status 3':
        if (mode === 'notification-flood') {
          const flood = () => {
            const lines = '>LOG:1795502820,I,MULTI: still here\r\n'.repeat(256);
            while (!socket.destroyed && socket.write(lines));
            if (!socket.destroyed) socket.once('drain', flood);
          };
          flood();
          return;
        }
        send(status3());
        return;
      case 'quit':
      case 'exit':
        socket.end();
        return;
      default:
        send(`ERROR: unknown command [${line.slice(0, 20)}], enter 'help' for more options\r\n`);
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    // As OpenVPN's own management socket: an answer is not held back for an ACK.
    if (opts.path === undefined) socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    queue.push(socket);
    serveNext();
  });
  await new Promise<void>((resolve) => (opts.path === undefined ? server.listen(0, '127.0.0.1', resolve) : server.listen(opts.path, resolve)));
  const port = opts.path === undefined ? (server.address() as net.AddressInfo).port : 0;
  return {
    host: '127.0.0.1',
    port,
    connections: () => sockets.size,
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
