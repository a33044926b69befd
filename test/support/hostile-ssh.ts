import { createServer, type Socket } from 'node:net';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';
import { fingerprintOf } from '../../src/transport/ssh/host-key.js';
import { testKeyPair } from './sshd.js';

/**
 * - `silent`: accepts TCP and never sends a banner.
 * - `stall-after-auth`: authenticates anyone, then never answers a channel request.
 * - `flood`: any exec writes output without end.
 * - `echo`: a working server (exec prints the command) with its own host key.
 * - `kbd-only`: like `echo`, but only keyboard-interactive with `password` gets in.
 */
export type HostileMode = 'silent' | 'stall-after-auth' | 'flood' | 'echo' | 'kbd-only';

export interface HostileSsh {
  host: string;
  port: number;
  /** Undefined for `silent`, which never gets as far as a key. */
  hostKeyFingerprint: string | undefined;
  /** TCP connections currently open on the server side. */
  openConnections(): number;
  stop(): Promise<void>;
}

export async function startHostileSsh(mode: HostileMode, password = 'hostile-pass'): Promise<HostileSsh> {
  const sockets = new Set<Socket>();
  let fingerprint: string | undefined;
  let ssh: InstanceType<typeof ssh2.Server> | undefined;
  if (mode !== 'silent') {
    const key = testKeyPair();
    fingerprint = fingerprintOf(Buffer.from(key.public.split(' ')[1] ?? '', 'base64'));
    ssh = new ssh2.Server({ hostKeys: [key.private] }, (conn) => serve(conn, mode, password));
  }
  // Our own listener, so every socket is tracked and can be destroyed on stop.
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (ssh) ssh.injectSocket(sock);
    // Read and drop, so the client's close is noticed and this side closes too.
    else sock.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    host: '127.0.0.1',
    port: addr.port,
    hostKeyFingerprint: fingerprint,
    openConnections: () => sockets.size,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(conn: Connection, mode: HostileMode, password: string): void {
  conn.on('error', () => {});
  conn.on('authentication', (ctx) => {
    if (mode !== 'kbd-only') {
      ctx.accept();
      return;
    }
    if (ctx.method !== 'keyboard-interactive') {
      ctx.reject(['keyboard-interactive']);
      return;
    }
    ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
      if (answers[0] === password) ctx.accept();
      else ctx.reject(['keyboard-interactive']);
    });
  });
  conn.on('session', (accept) => {
    // Holding the request unanswered is the whole point of this mode.
    if (mode === 'stall-after-auth') return;
    const session = accept();
    session.on('exec', (acceptExec, _reject, info) => {
      const ch = acceptExec();
      if (mode === 'flood') flood(ch);
      else {
        ch.write(`${info.command}\n`);
        ch.exit(0);
        ch.end();
      }
    });
  });
}

function flood(ch: ServerChannel): void {
  const chunk = Buffer.alloc(16 * 1024, 'y');
  let open = true;
  ch.once('close', () => (open = false));
  const pump = () => {
    while (open && ch.write(chunk)) {
      // Keep writing until the channel window is full.
    }
    if (open) ch.once('drain', pump);
  };
  pump();
}
