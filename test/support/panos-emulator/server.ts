import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, PseudoTtyInfo, ServerChannel } from 'ssh2';
import { PanosCli } from './cli.js';
import type { PanosScenario } from './scenario.js';
import { listenOnLoopback } from './listen.js';

const { Server, utils } = ssh2;

export interface PanosEmulator {
  host: string;
  port: number;
  /** As OpenSSH prints it: `SHA256:` and unpadded base64. */
  hostKeyFingerprint: string;
  username: string;
  password: string;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
  /** SSH connections open right now. */
  connections(): number;
  /** Command lines the CLI sessions ran, in order, across all sessions. */
  commands(): string[];
  /** Shell channels open right now (a client that closes its channel brings this back down). */
  shells(): number;
  /** Channel-level requests received so far across all connections: session opens, pty and shell requests. */
  requests(): ChannelRequests;
  /** Times a CLI session stopped at `--more--` and waited for a key, across all sessions. */
  pagerPauses(): number;
}

export interface ChannelRequests {
  session: number;
  pty: number;
  shell: number;
}

const AUTH_METHODS: ('password' | 'keyboard-interactive')[] = ['password', 'keyboard-interactive'];

export async function startPanosEmulator(scenario: PanosScenario): Promise<PanosEmulator> {
  const { keys, parsed } = generateHostKey();
  const fingerprint = `SHA256:${createHash('sha256').update(parsed.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;

  const open = new Set<Connection>();
  const commands: string[] = [];
  const requests: ChannelRequests = { session: 0, pty: 0, shell: 0 };
  const pager = { pauses: 0 };
  let openShells = 0;
  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    // As sshd does for interactive sessions: without it, each echoed character waits for
    // the client's delayed ACK and every command costs an extra ~40 ms no real unit adds.
    socketOf(client)?.setNoDelay(true);
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => open.delete(client));
    client.on('authentication', (ctx) => authenticate(ctx, scenario));
    client.on('ready', () => {
      let sessions = 0;
      client.on('session', (acceptSession, rejectSession) => {
        requests.session++;
        const limit = scenario.faults?.sessionsPerConnection;
        if (limit !== undefined && sessions >= limit) return rejectSession();
        sessions++;
        const session = acceptSession();
        let pty: PseudoTtyInfo | undefined;
        let cli: PanosCli | undefined;
        session.on('pty', (accept, _reject, info) => {
          requests.pty++;
          pty = info;
          accept();
        });
        session.on('window-change', (accept, _reject, info) => {
          cli?.resize(info.rows);
          accept();
        });
        // The PAN-OS CLI runs only as an interactive shell.
        session.on('exec', (_accept, reject) => reject());
        session.on('subsystem', (_accept, reject) => reject());
        session.on('shell', (accept, reject) => {
          requests.shell++;
          if (!pty) return reject();
          const channel = accept();
          openShells++;
          cli = new PanosCli(scenario, channelIo(channel, client), pty.rows > 0 ? pty.rows : 24, commands, () => pager.pauses++);
          const started = cli;
          channel.on('data', (d: Buffer) => started.input(d.toString('utf8')));
          channel.once('close', () => {
            openShells--;
            started.dispose();
          });
          started.start();
        });
      });
    });
  });

  const port = await listenOnLoopback(server);

  return {
    host: '127.0.0.1',
    port,
    hostKeyFingerprint: fingerprint,
    username: scenario.username,
    password: scenario.password,
    connections: () => open.size,
    commands: () => [...commands],
    shells: () => openShells,
    requests: () => ({ ...requests }),
    pagerPauses: () => pager.pauses,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of open) socketOf(c)?.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * ssh2's generator drops a leading zero byte of an ed25519 public key now and then
 * (about 1 key in 400), and the result is unusable; such a key is simply drawn again.
 */
function generateHostKey() {
  for (let attempt = 0; ; attempt++) {
    const keys = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(keys.private);
    if (!(parsed instanceof Error)) return { keys, parsed };
    if (attempt >= 20) throw parsed;
  }
}

function authenticate(ctx: AuthContext, s: PanosScenario): void {
  const userOk = ctx.username === s.username;
  if (ctx.method === 'password') {
    userOk && ctx.password === s.password ? ctx.accept() : ctx.reject(AUTH_METHODS);
    return;
  }
  if (ctx.method === 'keyboard-interactive') {
    ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
      if (userOk && answers[0] === s.password) ctx.accept();
      else ctx.reject(AUTH_METHODS);
    });
    return;
  }
  ctx.reject(AUTH_METHODS);
}

function channelIo(channel: ServerChannel, client: Connection) {
  return {
    write: (text: string) => {
      if (channel.writable) channel.write(text);
    },
    end: () => {
      channel.exit(0);
      channel.end();
    },
    drop: () => {
      const sock = socketOf(client);
      if (sock) sock.destroy();
      else client.end();
    },
  };
}

/** ssh2 keeps the TCP socket private; a cut link needs it. */
function socketOf(client: Connection): Socket | undefined {
  return (client as unknown as { _sock?: Socket })._sock;
}
