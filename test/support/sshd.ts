import { killDescendants } from './process-tree.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { fingerprintOf } from '../../src/transport/ssh/host-key.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Shared by every test sshd so concurrent test files never fight over the account's state. */
export const TEST_USER = 'vpnexp-ssh-test';
export const TEST_PASSWORD = 'vpnexp-test-pass-4711';

export interface SshdOptions {
  /** Any 127.x address; a second instance can sit on another one. */
  host?: string;
  /** Extra sshd_config lines, e.g. `AuthenticationMethods password`. */
  config?: string[];
}

export interface Sshd {
  host: string;
  port: number;
  user: string;
  password: string;
  privateKey: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** `[host]:port ssh-ed25519 AAAA...` for a known_hosts file. */
  knownHostsLine: string;
  dir: string;
  /** Kills the listener and every session under it. */
  stop(): Promise<void>;
  /** Starts the listener again on the same port with the same keys. */
  start(): Promise<void>;
  /**
   * Kills the per-connection processes and waits for them to die without
   * yielding to the event loop, so the client has not yet seen the close.
   */
  dropConnectionsSync(): void;
}

/**
 * ssh2's generator drops a leading zero byte from about one ed25519 key in two
 * hundred, leaving a key nothing can parse; those are thrown away.
 */
export function testKeyPair(opts: { comment?: string; passphrase?: string } = {}): { private: string; public: string } {
  for (;;) {
    const settings = opts.passphrase ? { passphrase: opts.passphrase, cipher: 'aes256-ctr', rounds: 16 } : {};
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: opts.comment, ...settings });
    if (!(ssh2.utils.parseKey(pair.private, opts.passphrase) instanceof Error)) return pair;
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  await ensureUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const host = opts.host ?? '127.0.0.1';
  const hostKey = testKeyPair();
  const userKey = testKeyPair({ comment: 'vpnexp-test' });
  const [hostKeyType, hostKeyB64] = hostKey.public.split(' ');
  if (!hostKeyType || !hostKeyB64) throw new Error('unexpected public key format');

  let dir = '';
  let port = 0;
  let child: ChildProcess | undefined;
  // Files live only while sshd runs, so a stopped instance leaves nothing in /tmp.
  const launch = async (keepPort: boolean) => {
    dir = await mkdtemp(join(tmpdir(), 'vpnexp-sshd-'));
    // sshd reads authorized_keys as the user, after dropping root.
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'host_key'), hostKey.private, { mode: 0o600 });
    await writeFile(join(dir, 'authorized_keys'), `${userKey.public}\n`, { mode: 0o644 });
    for (let attempt = 0; ; attempt++) {
      if (!keepPort) port = await freePort(host);
      await writeFile(join(dir, 'sshd_config'), sshdConfig(host, port, dir, opts.config ?? []));
      try {
        child = await spawnSshd(join(dir, 'sshd_config'));
        return;
      } catch (err) {
        // A free port can be taken between probing and binding; a restart must keep its port.
        if (keepPort || attempt >= 4) throw err;
      }
    }
  };
  await launch(false);
  // A test that dies without calling stop() must not leave sshd listening.
  process.once('exit', () => {
    if (child?.pid && child.exitCode === null) killTree(child.pid, true);
  });

  const knownHostsName = port === 22 ? host : `[${host}]:${port}`;
  return {
    host,
    port,
    user: TEST_USER,
    password: TEST_PASSWORD,
    privateKey: userKey.private,
    hostKeyFingerprint: fingerprintOf(Buffer.from(hostKeyB64, 'base64')),
    knownHostsLine: `${knownHostsName} ${hostKeyType} ${hostKeyB64}`,
    get dir() {
      return dir;
    },
    stop: async () => {
      const c = child;
      child = undefined;
      if (c && c.exitCode === null) {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        killTree(c.pid!, true);
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
    start: async () => {
      if (!child) await launch(true);
    },
    dropConnectionsSync: () => {
      if (child?.pid) killTree(child.pid, false);
    },
  };
}

function sshdConfig(host: string, port: number, dir: string, extra: string[]): string {
  return [
    ...extra,
    `ListenAddress ${host}:${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PidFile none',
    'UsePAM no',
    'StrictModes no',
    `AllowUsers ${TEST_USER}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication yes',
    'PrintMotd no',
    'PrintLastLog no',
    // Tests open many connections in bursts; the default throttles after 10 unauthenticated ones.
    'MaxStartups 500',
    'MaxSessions 100',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

function spawnSshd(config: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const onData = (d: Buffer) => {
      log += d.toString();
      if (/Server listening on/.test(log)) {
        // Keep draining: a full pipe would block sshd's logging.
        resolve(child);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`sshd exited with ${code}: ${log.slice(-2000)}`)));
    child.once('error', reject);
  });
}

function killTree(root: number, includeRoot: boolean): void {
  const pids = killDescendants(root);
  if (includeRoot) process.kill(root, 'SIGTERM');
  const until = Date.now() + 5000;
  for (const pid of pids) {
    while (Date.now() < until && alive(pid)) {
      // Busy wait on purpose: yielding would let the client notice the close first.
    }
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

let userReady: Promise<void> | undefined;

/** Idempotent; the password also unlocks the account, which sshd requires without PAM. */
function ensureUser(): Promise<void> {
  userReady ??= (async () => {
    const shadow = await run('getent', ['shadow', TEST_USER]).then(
      (r) => r.stdout,
      () => '',
    );
    if (shadow.split(':')[1]?.startsWith('$')) return;
    if (shadow === '') {
      await retry(() => run('useradd', ['-M', '-d', '/', '-s', '/bin/sh', TEST_USER]), /already exists/);
    }
    await retry(() => runWithInput('chpasswd', `${TEST_USER}:${TEST_PASSWORD}\n`));
  })();
  return userReady;
}

/** Another test file may hold the passwd lock for a moment. */
async function retry(f: () => Promise<unknown>, okIf?: RegExp): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await f();
      return;
    } catch (err) {
      const msg = String((err as { stderr?: string }).stderr ?? err);
      if (okIf?.test(msg)) return;
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function runWithInput(cmd: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [], (err, _out, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve()));
    child.stdin!.end(input);
  });
}
