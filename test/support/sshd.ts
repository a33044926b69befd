// A real OpenSSH sshd for tests, labs and benchmarks: in the root namespace on a free loopback port
// (unit tests), on a lab gateway's address inside its namespace and mounts (labs), or on up to 16
// addresses at once (a share of the fleet bench's gateways). Keys are made here, in memory; files
// live in one directory: host_key, id_ed25519 (the user's key), authorized_keys, sshd_config, sshd.log.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { spawnDaemon, type Daemon } from '../lab/support/netns.js';
import { freePort } from './free-port.js';
import { killDescendants } from './process-tree.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** Shared by every test sshd so concurrent test files never fight over the account's state. */
export const TEST_USER = 'vpnexp-ssh-test';
export const TEST_PASSWORD = 'vpnexp-test-pass-4711';

/** sshd refuses more ListenAddress sockets than this (MAX_LISTEN_SOCKS in OpenSSH 9.2). */
export const MAX_LISTEN_ADDRESSES = 16;

export interface SshdAccount {
  name: string;
  /** Also allows password and keyboard-interactive logins; key-only without. */
  password?: string;
  /** A second uid-0 account (useradd -o), for commands that need root. */
  uid0?: boolean;
}

export interface KeyPair {
  private: string;
  public: string;
}

export interface SshdOptions {
  /** A lab's network namespace; the root namespace when omitted. */
  ns?: string;
  /** Shell commands run in the daemon's own mount namespace before exec (a lab gateway's private mounts). */
  setup?: string;
  /** "address:port" to listen on, at most 16. Default: a free port on `host`. */
  listen?: string[];
  /** Any 127.x address, when `listen` is omitted; a second instance can sit on another one. */
  host?: string;
  /** For the files; default a fresh temporary directory, removed by stop(). */
  dir?: string;
  /** Default TEST_USER with TEST_PASSWORD. Every account's shell is /bin/sh, which reads no startup files. */
  account?: SshdAccount;
  /** More accounts that log in with the same key (a gateway's root and its unprivileged monitor). */
  extraAccounts?: SshdAccount[];
  /** The key that logs in (its public half goes to authorized_keys); default a fresh one. */
  userKey?: KeyPair;
  /** Channels per connection: 100 by default, for tests that open many at once (OpenSSH's own default is 10). */
  maxSessions?: number;
  /** sshd_config lines ahead of the defaults (sshd takes a keyword's first value), e.g. `MaxSessions 1`. */
  config?: string[];
  /** `Match` blocks, after the defaults (a Match block runs to the end of the file), e.g. per `LocalPort`. */
  match?: string[];
  /** VERBOSE (default) for a useful log when a test fails; INFO where logging would cost (benchmarks). */
  logLevel?: 'INFO' | 'VERBOSE';
}

export interface Sshd {
  /** The first listen address. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** '' for a key-only account. */
  readonly password: string;
  /** The user's unencrypted OpenSSH private key, and the file it is in. */
  readonly privateKey: string;
  readonly privateKeyFile: string;
  /** "ssh-ed25519 AAAA…", to be prefixed with the name a client uses for a known_hosts line. */
  readonly hostPublicKey: string;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  /** `[host]:port ssh-ed25519 AAAA...` for a known_hosts file. */
  readonly knownHostsLine: string;
  readonly dir: string;
  /** The listener's pid while it runs. */
  readonly pid: number | undefined;
  isRunning(): boolean;
  logTail(lines?: number): string;
  /** Starts the listener again on the same addresses with the same keys. */
  start(): Promise<void>;
  /** SIGKILL to the listener and every session under it (a crash: clients get no goodbye). */
  kill(): Promise<void>;
  /** kill(), and the temporary directory goes too. */
  stop(): Promise<void>;
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
export function testKeyPair(opts: { comment?: string; passphrase?: string } = {}): KeyPair {
  for (;;) {
    const settings = opts.passphrase ? { passphrase: opts.passphrase, cipher: 'aes256-ctr', rounds: 16 } : {};
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: opts.comment, ...settings });
    if (!(ssh2.utils.parseKey(pair.private, opts.passphrase) instanceof Error)) return pair;
  }
}

/** "SHA256:…" of an OpenSSH public key line, computed here rather than by the code under test. */
export function keyFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Listeners still running, killed should the process exit without stopping them. */
const running = new Set<Daemon>();
process.once('exit', () => {
  for (const d of running) {
    killDescendants(d.pid);
    d.kill('SIGKILL');
  }
});

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const account = opts.account ?? { name: TEST_USER, password: TEST_PASSWORD };
  const logins = [account, ...(opts.extraAccounts ?? [])];
  for (const a of logins) await ensureAccount(a);
  // sshd insists on its privilege separation directory; `ip netns exec` keeps the host's /run.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vpnexp-sshd-'));
  const hostKey = testKeyPair({ comment: 'vpnexp-test-host' });
  const userKey = opts.userKey ?? testKeyPair({ comment: 'vpnexp-test' });
  const hostPublicKey = hostKey.public.split(' ').slice(0, 2).join(' ');
  const file = (name: string) => join(dir, name);
  const logFile = file('sshd.log');
  let listen = opts.listen ?? [];
  if (listen.length > MAX_LISTEN_ADDRESSES) throw new Error(`sshd listens on at most ${MAX_LISTEN_ADDRESSES} addresses`);

  const config = (): string =>
    [
      ...(opts.config ?? []),
      ...listen.map((l) => `ListenAddress ${l}`),
      `HostKey ${file('host_key')}`,
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      `AllowUsers ${logins.map((a) => a.name).join(' ')}`,
      `PermitRootLogin ${logins.some((a) => a.uid0) ? 'prohibit-password' : 'no'}`,
      'PidFile none',
      // No PAM: an unlocked account suffices. No StrictModes: /tmp is 1777.
      'UsePAM no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      `PasswordAuthentication ${account.password === undefined ? 'no' : 'yes'}`,
      `KbdInteractiveAuthentication ${account.password === undefined ? 'no' : 'yes'}`,
      'PrintMotd no',
      'PrintLastLog no',
      // Tests and the fleet bench open many connections in bursts; the default throttles after 10 unauthenticated ones.
      'MaxStartups 1000',
      `MaxSessions ${opts.maxSessions ?? 100}`,
      `LogLevel ${opts.logLevel ?? 'VERBOSE'}`,
      ...(opts.match ?? []),
      '',
    ].join('\n');

  // Written at every start: a stopped instance has removed its temporary directory.
  const writeFiles = () => {
    // sshd reads authorized_keys as the user, after dropping root.
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    writeFileSync(file('host_key'), hostKey.private, { mode: 0o600 });
    writeFileSync(file('id_ed25519'), userKey.private, { mode: 0o600 });
    writeFileSync(file('authorized_keys'), `${userKey.public}\n`, { mode: 0o644 });
    writeFileSync(file('sshd_config'), config());
  };

  let daemon: Daemon | undefined;
  const launch = async (): Promise<void> => {
    if (daemon?.isRunning()) throw new Error('sshd is already running');
    writeFiles();
    const from = sizeOf(logFile);
    const d = spawnDaemon({ ns: opts.ns, setup: opts.setup, command: '/usr/sbin/sshd', args: ['-D', '-e', '-f', file('sshd_config')], logFile });
    daemon = d;
    running.add(d);
    void d.exited.then(() => running.delete(d));
    // One line per address it bound.
    const listening = () => (logSince(logFile, from).match(/Server listening on/g)?.length ?? 0) >= listen.length;
    await waitFor(`sshd${opts.ns ? ` in ${opts.ns}` : ''} to listen on ${listen.join(' ')}`, listening, {
      intervalMs: 20,
      giveUpIf: () => (d.isRunning() ? undefined : 'sshd exited'),
      describe: () => d.logTail(20),
    }).catch(async (err: unknown) => {
      d.kill('SIGKILL');
      await d.exited;
      throw err;
    });
  };

  if (opts.listen) {
    await launch();
  } else {
    const host = opts.host ?? '127.0.0.1';
    for (let attempt = 0; ; attempt++) {
      listen = [`${host}:${await freePort(host)}`];
      try {
        await launch();
        break;
      } catch (err) {
        // A free port can be taken between probing and binding.
        if (attempt < 4) continue;
        if (ownDir) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const kill = async () => {
    const d = daemon;
    if (!d?.isRunning()) return;
    // Each session is a process group of its own: the listener's group alone would leave them serving.
    killDescendants(d.pid);
    d.kill('SIGKILL');
    await d.exited;
  };
  const [host, port] = splitAddress(listen[0] ?? '');
  return {
    host,
    port,
    user: account.name,
    password: account.password ?? '',
    privateKey: userKey.private,
    privateKeyFile: file('id_ed25519'),
    hostPublicKey,
    hostKeyFingerprint: keyFingerprint(hostPublicKey),
    knownHostsLine: `${port === 22 ? host : `[${host}]:${port}`} ${hostPublicKey}`,
    dir,
    get pid() {
      return daemon?.isRunning() ? daemon.pid : undefined;
    },
    isRunning: () => daemon?.isRunning() ?? false,
    logTail: (lines) => daemon?.logTail(lines) ?? '',
    start: launch,
    kill,
    stop: async () => {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    dropConnectionsSync: () => {
      if (!daemon?.isRunning()) return;
      const pids = killDescendants(daemon.pid);
      const until = performance.now() + 5000;
      for (const pid of pids) {
        while (performance.now() < until && alive(pid)) {
          // Busy wait on purpose: yielding would let the client notice the close first.
        }
      }
    },
  };
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function logSince(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString();
  } catch {
    return '';
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

const accounts = new Map<string, Promise<void>>();

/** Creates the account once per process; idempotent across processes. */
function ensureAccount(account: SshdAccount): Promise<void> {
  let ready = accounts.get(account.name);
  if (!ready) {
    ready = createAccount(account);
    accounts.set(account.name, ready);
  }
  return ready;
}

async function createAccount({ name, password, uid0 }: SshdAccount): Promise<void> {
  const shadow = async () => (await run('getent', ['shadow', name]).catch(() => ({ stdout: '' }))).stdout.split(':')[1];
  let hash = await shadow();
  if (hash === undefined) {
    const asRoot = uid0 ? ['-o', '-u', '0', '-g', '0'] : [];
    await retryLocked(() => run('useradd', [...asRoot, '-M', '-d', '/', '-s', '/bin/sh', name]));
    hash = await shadow();
  }
  if (password !== undefined) {
    // The password also unlocks the account, which sshd requires without PAM.
    if (!hash?.startsWith('$')) await retryLocked(() => runWithInput('chpasswd', `${name}:${password}\n`));
  } else if (hash !== '*') {
    // useradd leaves the account locked ("!"), which sshd refuses without PAM even for keys;
    // "*" allows key logins while no password can ever match.
    await retryLocked(() => run('usermod', ['-p', '*', name]));
  }
}

/** Other test files edit /etc/passwd at the same time; the tools fail at once on its lock instead of waiting. */
async function retryLocked(f: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await f();
      return;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? err);
      if (/already exists/.test(stderr)) return;
      if (attempt >= 30) throw err;
      await sleep(100);
    }
  }
}

function runWithInput(cmd: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [], (err, _out, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve()));
    child.stdin!.end(input);
  });
}
