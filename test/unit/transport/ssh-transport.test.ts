import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CapturingProbeLog, silentProbeLog } from '../../../src/log/probe-log.js';
import { createSshTransport } from '../../../src/transport/ssh/transport.js';
import type { ExecOptions, SshEndpoint } from '../../../src/transport/ssh/types.js';
import { AbortedError, SizeLimitError } from '../../../src/util/errors.js';
import { startSshd, testKeyPair, type Sshd } from '../../support/sshd.js';
import { waitFor } from '../../support/wait-for.js';
import { escapeRegExp } from '../../support/regexp.js';

let sshd: Sshd;
let dir: string;
let knownHosts: string;

before(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'vpnexp-ssh-test-'));
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
});

after(async () => {
  await sshd.stop();
  rmSync(dir, { recursive: true, force: true });
});

function keyEndpoint(s: Sshd = sshd, kh = knownHosts): SshEndpoint {
  return { host: s.host, port: s.port, credentials: { username: s.user, privateKey: s.privateKey }, hostKey: { knownHostsFile: kh } };
}

function opts(over: Partial<ExecOptions> = {}): ExecOptions {
  return { signal: AbortSignal.timeout(10_000), maxOutputBytes: 1 << 20, log: silentProbeLog, ...over };
}

test('key auth against known_hosts: stdout, stderr and exit code', async () => {
  const ssh = createSshTransport();
  try {
    const log = new CapturingProbeLog(undefined);
    const r = await ssh.exec(keyEndpoint(), 'echo out; echo err >&2; exit 3', opts({ log }));
    assert.deepEqual(r, { stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    const msgs = log.entries.map((e) => e.msg);
    for (const m of ['ssh connecting', 'ssh handshake done', 'ssh channel open', 'ssh exec finished']) {
      assert.ok(msgs.includes(m), `missing log line ${m}`);
    }
    assert.doesNotMatch(JSON.stringify(log.entries), /PRIVATE KEY/);
    const killed = await ssh.exec(keyEndpoint(), 'kill -KILL $$', opts());
    assert.deepEqual({ code: killed.exitCode, signal: killed.exitSignal }, { code: null, signal: 'SIGKILL' });
  } finally {
    await ssh.close();
  }
});

test('an encrypted private key with its passphrase', async () => {
  const key = testKeyPair({ passphrase: 'open sesame' });
  appendFileSync(join(sshd.dir, 'authorized_keys'), `${key.public}\n`);
  const ssh = createSshTransport();
  try {
    const ep = keyEndpoint();
    ep.credentials = { username: sshd.user, privateKey: key.private, passphrase: 'open sesame' };
    assert.equal((await ssh.exec(ep, 'echo ok', opts())).stdout, 'ok\n');
    ep.credentials = { username: sshd.user, privateKey: key.private, passphrase: 'wrong' };
    await assert.rejects(ssh.exec(ep, 'true', opts()), (err: Error) => !/wrong/.test(err.message));
  } finally {
    await ssh.close();
  }
});

test('password auth, and a wrong password fails without naming it', async () => {
  const ssh = createSshTransport();
  try {
    const ep = keyEndpoint();
    ep.credentials = { username: sshd.user, password: sshd.password };
    assert.equal((await ssh.exec(ep, 'whoami', opts())).stdout, `${sshd.user}\n`);
    ep.credentials = { username: sshd.user, password: 'not-the-password' };
    await assert.rejects(ssh.exec(ep, 'true', opts()), (err: Error) => {
      assert.match(err.message, /authentication as vpnexp-ssh-test@127\.0\.0\.1:\d+ failed/);
      assert.doesNotMatch(err.message, /not-the-password/);
      return true;
    });
  } finally {
    await ssh.close();
  }
});

test('keyboard-interactive on a server where it is the only method', async () => {
  const kbd = await startSshd({ config: ['UsePAM yes', 'AuthenticationMethods keyboard-interactive'] });
  const ssh = createSshTransport();
  try {
    const ep: SshEndpoint = {
      host: kbd.host,
      port: kbd.port,
      credentials: { username: kbd.user, password: kbd.password },
      hostKey: { fingerprints: [kbd.hostKeyFingerprint] },
    };
    assert.equal((await ssh.exec(ep, 'echo kbd', opts())).stdout, 'kbd\n');
    // A key alone cannot pass a server that demands keyboard-interactive.
    await assert.rejects(ssh.exec({ ...ep, credentials: { username: kbd.user, privateKey: kbd.privateKey } }, 'true', opts()), /authentication/);
  } finally {
    await ssh.close();
    await kbd.stop();
  }
});

test('hashed known_hosts entries (ssh-keygen -H)', async () => {
  const hashed = join(dir, 'known_hosts_hashed');
  writeFileSync(hashed, `other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1vcmUgdGhhbiBqdXN0IGEgdGVzdCBrZXkgYmxvYg==\n${sshd.knownHostsLine}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
  assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
  const ssh = createSshTransport();
  try {
    assert.equal((await ssh.exec(keyEndpoint(sshd, hashed), 'echo h', opts())).stdout, 'h\n');
  } finally {
    await ssh.close();
  }
});

test('pinned fingerprints: the right one connects, a wrong one names the presented key', async () => {
  const ssh = createSshTransport();
  try {
    const ep = keyEndpoint();
    ep.hostKey = { fingerprints: [sshd.hostKeyFingerprint] };
    assert.equal((await ssh.exec(ep, 'echo p', opts())).stdout, 'p\n');
    ep.hostKey = { fingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] };
    await assert.rejects(ssh.exec(ep, 'true', opts()), {
      name: 'ProbeError',
      message: `host key for ${sshd.host}:${sshd.port} not trusted: presented ${sshd.hostKeyFingerprint} (ssh-ed25519)`,
    });
  } finally {
    await ssh.close();
  }
});

test('a known_hosts file that changes between connections is read again', async () => {
  const kh = join(dir, 'known_hosts_changing');
  writeFileSync(kh, '');
  const ssh = createSshTransport();
  try {
    await assert.rejects(ssh.exec(keyEndpoint(sshd, kh), 'true', opts()), /not trusted: presented SHA256:/);
    writeFileSync(kh, `${sshd.knownHostsLine}\n`);
    assert.equal((await ssh.exec(keyEndpoint(sshd, kh), 'echo now', opts())).stdout, 'now\n');
  } finally {
    await ssh.close();
  }
});

test('insecureSkipVerify connects and warns on every connection', async () => {
  const ssh = createSshTransport();
  try {
    const ep = keyEndpoint();
    ep.hostKey = { insecureSkipVerify: true };
    const log = new CapturingProbeLog(undefined);
    await ssh.exec(ep, 'true', opts({ log }));
    assert.ok(log.entries.some((e) => e.level === 'warn' && /NOT verified/.test(e.msg)));
  } finally {
    await ssh.close();
  }
});

test('output past maxOutputBytes fails the call; the connection stays usable', async () => {
  const ssh = createSshTransport();
  try {
    await assert.rejects(ssh.exec(keyEndpoint(), 'head -c 200000 /dev/zero; head -c 5000 /dev/zero >&2', opts({ maxOutputBytes: 4096 })), SizeLimitError);
    // stdout and stderr share one budget.
    await assert.rejects(ssh.exec(keyEndpoint(), 'head -c 3000 /dev/zero; head -c 3000 /dev/zero >&2', opts({ maxOutputBytes: 4096 })), SizeLimitError);
    const before = ssh.stats().handshakes;
    assert.equal((await ssh.exec(keyEndpoint(), 'echo after', opts())).stdout, 'after\n');
    assert.equal(ssh.stats().handshakes, before);
  } finally {
    await ssh.close();
  }
});

test('abort mid-command rejects with the reason and closes the channel', async () => {
  const ssh = createSshTransport();
  try {
    await ssh.exec(keyEndpoint(), 'true', opts());
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(new AbortedError('probe timed out')), 150);
    await assert.rejects(ssh.exec(keyEndpoint(), 'sleep 30', opts({ signal: ac.signal })), { name: 'AbortedError', message: 'probe timed out' });
    assert.ok(performance.now() - started < 2000);
    await waitFor('no channel open', () => ssh.stats().channels === 0);
    assert.equal((await ssh.exec(keyEndpoint(), 'echo still', opts())).stdout, 'still\n');
  } finally {
    await ssh.close();
  }
});

test('pooling: a warm exec pays no handshake; concurrent first uses share one', async () => {
  const ssh = createSshTransport();
  try {
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => ssh.exec(keyEndpoint(), `echo ${n}`, opts())));
    assert.deepEqual(
      results.map((r) => r.stdout),
      ['1\n', '2\n', '3\n', '4\n', '5\n'],
    );
    assert.equal(ssh.stats().handshakes, 1);
    const log = new CapturingProbeLog(undefined);
    await ssh.exec(keyEndpoint(), 'true', opts({ log }));
    assert.deepEqual(ssh.stats(), { connections: 1, channels: 0, handshakes: 1 });
    assert.ok(log.entries.some((e) => e.msg === 'ssh reusing pooled connection'));
    // Different credentials are a different connection.
    const pw = keyEndpoint();
    pw.credentials = { username: sshd.user, password: sshd.password };
    await ssh.exec(pw, 'true', opts());
    assert.equal(ssh.stats().connections, 2);
  } finally {
    await ssh.close();
  }
  assert.equal(ssh.stats().connections, 0);
});

test('a waiter that gives up does not cancel a handshake others still wait for', async () => {
  const ssh = createSshTransport();
  try {
    const ac = new AbortController();
    const quitter = ssh.exec(keyEndpoint(), 'true', opts({ signal: ac.signal }));
    const stayer = ssh.exec(keyEndpoint(), 'echo stayed', opts());
    ac.abort();
    await assert.rejects(quitter, AbortedError);
    assert.equal((await stayer).stdout, 'stayed\n');
    assert.equal(ssh.stats().handshakes, 1);
  } finally {
    await ssh.close();
  }
});

test('idle connections are closed after idleTimeoutMs', async () => {
  const ssh = createSshTransport({ idleTimeoutMs: 150 });
  try {
    await ssh.exec(keyEndpoint(), 'true', opts());
    assert.equal(ssh.stats().connections, 1);
    await waitFor('no connection open', () => ssh.stats().connections === 0);
  } finally {
    await ssh.close();
  }
});

test('connection cap: the least recently used idle connection is evicted; all busy fails clearly', async () => {
  const ssh = createSshTransport({ maxConnections: 1 });
  const pw = keyEndpoint();
  pw.credentials = { username: sshd.user, password: sshd.password };
  try {
    await ssh.exec(keyEndpoint(), 'true', opts());
    await ssh.exec(pw, 'true', opts());
    assert.deepEqual({ c: ssh.stats().connections, h: ssh.stats().handshakes }, { c: 1, h: 2 });
    const ac = new AbortController();
    const busy = ssh.exec(pw, 'sleep 30', opts({ signal: ac.signal }));
    await waitFor('one channel open', () => ssh.stats().channels === 1);
    await assert.rejects(ssh.exec(keyEndpoint(), 'true', opts()), /pool is full: all 1 connections are busy/);
    ac.abort();
    await assert.rejects(busy, AbortedError);
  } finally {
    await ssh.close();
  }
});

test('connections dropped by the server are replaced transparently', async () => {
  const ssh = createSshTransport();
  try {
    await ssh.exec(keyEndpoint(), 'true', opts());
    // The client has not yet seen the close when the next exec starts: the retry path.
    sshd.dropConnectionsSync();
    const log = new CapturingProbeLog(undefined);
    assert.equal((await ssh.exec(keyEndpoint(), 'echo back', opts({ log }))).stdout, 'back\n');
    assert.equal(ssh.stats().handshakes, 2);
    assert.ok(log.entries.some((e) => e.msg === 'ssh pooled connection was dead, reconnecting'));

    // sshd gone while the connection idles, then back.
    await sshd.stop();
    await waitFor('no connection open', () => ssh.stats().connections === 0);
    await assert.rejects(ssh.exec(keyEndpoint(), 'true', opts()), /ECONNREFUSED/);
    await sshd.start();
    assert.equal((await ssh.exec(keyEndpoint(), 'echo again', opts())).stdout, 'again\n');
    assert.equal(ssh.stats().handshakes, 4);
  } finally {
    await ssh.close();
  }
});

/** A transport against an sshd of its own with extra config lines; both closed afterwards. */
async function withOwnSshd(config: string[], fn: (ssh: ReturnType<typeof createSshTransport>, ep: SshEndpoint, own: Sshd) => Promise<void>) {
  const own = await startSshd({ config });
  const kh = join(dir, `known_hosts_${own.port}`);
  writeFileSync(kh, `${own.knownHostsLine}\n`);
  const ssh = createSshTransport();
  try {
    await fn(ssh, keyEndpoint(own, kh), own);
  } finally {
    await ssh.close();
    await own.stop();
  }
  assert.equal(ssh.stats().connections, 0);
}

test('a server allowing one session per connection (MaxSessions 1): concurrent probes get their own connections', async () => {
  await withOwnSshd(['MaxSessions 1'], async (ssh, ep) => {
    const burst = await Promise.all([1, 2, 3].map((n) => ssh.exec(ep, `sleep 0.2; echo ${n}`, opts())));
    assert.deepEqual(
      burst.map((r) => r.stdout),
      ['1\n', '2\n', '3\n'],
    );
    assert.equal(ssh.stats().handshakes, 3, 'one pooled connection and one for each refused channel');
    // The one-off connections close once used; the pooled one stays.
    await waitFor('one connection open', () => ssh.stats().connections === 1);

    // Learned: the next burst asks for no channel the server would refuse.
    const later = [0, 1, 2].map(() => new CapturingProbeLog(undefined));
    const again = await Promise.all(later.map((log, n) => ssh.exec(ep, `sleep 0.2; echo ${n}`, opts({ log }))));
    assert.deepEqual(
      again.map((r) => r.stdout),
      ['0\n', '1\n', '2\n'],
    );
    assert.equal(ssh.stats().handshakes, 5, 'the pooled connection for one, a new one each for the others');
    for (const log of later) assert.ok(!log.entries.some((e) => /refused/.test(e.msg)), JSON.stringify(log.entries));
    await waitFor('one connection open', () => ssh.stats().connections === 1);
    assert.equal((await ssh.exec(ep, 'echo alone', opts())).stdout, 'alone\n');
    assert.equal(ssh.stats().handshakes, 5, 'a lone probe still reuses the pooled connection');
  });
});

test('a server refusing every session (MaxSessions 0) fails once, with its reason, and leaves no connection', async () => {
  await withOwnSshd(['MaxSessions 0'], async (ssh, ep) => {
    await assert.rejects(ssh.exec(ep, 'true', opts()), /refused: \(SSH\) Channel open failure/);
    assert.equal(ssh.stats().handshakes, 1, 'no retry for a refusal on a fresh connection');
    await assert.rejects(ssh.exec(ep, 'true', opts()), /Channel open failure/);
    assert.equal(ssh.stats().handshakes, 2, 'a refusal on the reused connection is retried once, on a new one, and no more');
  });
});

test("a pooled connection keeps only its own host's known_hosts lines, however large the fleet file", async (t) => {
  // One known_hosts for a whole fleet is the natural setup; every pooled connection used to
  // keep all of it, so memory grew with gateways × lines.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const fleet = Array.from(
    { length: 4000 },
    (_, i) => `[203.0.113.${i % 250}]:${2200 + Math.floor(i / 250)} ${sshd.knownHostsLine.split(' ').slice(1).join(' ')}`,
  );
  const files = Array.from({ length: 30 }, (_, i) => {
    // A file per connection: the pool keys connections by host key policy, so each gets its own.
    const file = join(dir, `fleet_known_hosts_${i}`);
    writeFileSync(file, `${[...fleet, sshd.knownHostsLine].join('\n')}\n`);
    return file;
  });
  const ssh = createSshTransport();
  try {
    await ssh.exec(keyEndpoint(sshd, files[0]), 'true', opts());
    gc();
    const before = process.memoryUsage().heapUsed;
    for (const file of files.slice(1)) await ssh.exec(keyEndpoint(sshd, file), 'true', opts());
    gc();
    const perConnection = (process.memoryUsage().heapUsed - before) / (files.length - 1);
    assert.equal(ssh.stats().connections, files.length);
    // ~35 KB for ssh2's own state; the whole file would be ~4000 × 0.5 KB = 2 MB.
    t.diagnostic(`each pooled connection holds ${Math.round(perConnection / 1024)} KB`);
    assert.ok(perConnection < 300 * 1024, `each pooled connection holds ${Math.round(perConnection / 1024)} KB`);
  } finally {
    await ssh.close();
  }
});

test('jump host: the target is reached through a forwarded channel', async () => {
  const target = await startSshd({ host: '127.0.0.2' });
  const ssh = createSshTransport();
  try {
    const ep: SshEndpoint = {
      host: target.host,
      port: target.port,
      credentials: { username: target.user, privateKey: target.privateKey },
      hostKey: { fingerprints: [target.hostKeyFingerprint] },
      jump: keyEndpoint(),
    };
    const r = await ssh.exec(ep, 'echo $SSH_CONNECTION', opts());
    // The target sees the jump host's connection, not ours.
    assert.match(r.stdout, new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.2 ${target.port}\\n$`));
    assert.deepEqual(ssh.stats(), { connections: 2, channels: 1, handshakes: 2 });
    await ssh.exec(ep, 'true', opts());
    assert.equal(ssh.stats().handshakes, 2);
    // The target's host key is checked on its own.
    const wrong = { ...ep, hostKey: { fingerprints: [sshd.hostKeyFingerprint] } };
    await assert.rejects(
      ssh.exec(wrong, 'true', opts()),
      new RegExp(`host key for 127\\.0\\.0\\.2:${target.port} not trusted: presented ${escapeRegExp(target.hostKeyFingerprint)}`),
    );
  } finally {
    await ssh.close();
    await target.stop();
  }
});

test('shell with a pty: readUntil returns up to the match and keeps the rest', async () => {
  const ssh = createSshTransport();
  try {
    const sig = AbortSignal.timeout(10_000);
    const shell = await ssh.openShell(keyEndpoint(), { signal: sig, maxOutputBytes: 65536, log: silentProbeLog, cols: 123, rows: 45 });
    // Quotes keep the echoed command line from matching the marker itself.
    shell.write(`stty size; echo MAR""K1; echo MAR""K2\n`);
    const first = await shell.readUntil(/MARK1\r?\n/, sig);
    assert.match(first, /45 123\r\n/);
    assert.doesNotMatch(first, /MARK2/);
    const second = await shell.readUntil(/MARK2\r?\n/, sig);
    assert.match(second, /^MARK2\r?\n$/);

    shell.write(`head -c 100000 /dev/zero | tr '\\0' y\n`);
    await assert.rejects(shell.readUntil(/NEVER/, sig), SizeLimitError);
    shell.close();
    await waitFor('no channel open', () => ssh.stats().channels === 0);
    assert.equal(ssh.stats().connections, 1);

    const again = await ssh.openShell(keyEndpoint(), { signal: sig, maxOutputBytes: 65536, log: silentProbeLog });
    again.write('exit\n');
    await assert.rejects(again.readUntil(/NEVER/, sig), /closed/);
    const ac = new AbortController();
    const third = await ssh.openShell(keyEndpoint(), { signal: sig, maxOutputBytes: 65536, log: silentProbeLog });
    const pending = third.readUntil(/NEVER/, ac.signal);
    ac.abort();
    await assert.rejects(pending, AbortedError);
    third.close();
    assert.equal(ssh.stats().handshakes, 1);
  } finally {
    await ssh.close();
  }
});

/**
 * A unix socket the test account may open (sshd forwards as that account) that answers each
 * line in two writes, as charon writes a VICI message (length, then body).
 */
async function startSplitEcho(): Promise<{ path: string; stop(): Promise<void> }> {
  const sockDir = mkdtempSync(join(tmpdir(), 'vpnexp-sock-'));
  chmodSync(sockDir, 0o755);
  const path = join(sockDir, 'echo.sock');
  const server = createServer((c) => {
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      c.write(d.subarray(0, 1));
      c.write(d.subarray(1));
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o777);
  return {
    path,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(sockDir, { recursive: true, force: true });
    },
  };
}

/** One request and its whole answer through a stream-local channel, which is then closed. */
async function roundTrip(
  ssh: ReturnType<typeof createSshTransport>,
  ep: SshEndpoint,
  path: string,
  log = silentProbeLog,
  signal = AbortSignal.timeout(10_000),
) {
  const { stream } = await ssh.openStreamLocal(ep, path, { signal, log });
  const got: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      got.push(d);
      if (Buffer.concat(got).toString() === 'ping\n') resolve();
    });
    stream.on('error', reject);
    stream.write('ping\n');
  });
  stream.destroy();
}

/** Programs sshd started for sessions (LogLevel VERBOSE logs each one). */
function commandsStarted(s: Sshd): number {
  return readFileSync(join(s.dir, 'sshd.log'), 'utf8').match(/Starting session: command for /g)?.length ?? 0;
}

const NODELAY_LINE = /ran a command so that the server sends small answers at once/;

test('stream-local: a connection that has run no command runs one first (sshd before 10.1 turns Nagle off only then), once', async () => {
  const echo = await startSplitEcho();
  try {
    await withOwnSshd([], async (ssh, ep, own) => {
      const logs = [0, 1, 2].map(() => new CapturingProbeLog(undefined));
      // Two at once on the fresh connection share the one command; the third needs none.
      await Promise.all([roundTrip(ssh, ep, echo.path, logs[0]), roundTrip(ssh, ep, echo.path, logs[1])]);
      await roundTrip(ssh, ep, echo.path, logs[2]);
      assert.equal(commandsStarted(own), 1);
      assert.deepEqual(
        logs.map((l) => l.entries.filter((e) => NODELAY_LINE.test(e.msg)).length),
        [1, 0, 0],
      );
      assert.equal(ssh.stats().handshakes, 1);
      await waitFor('no channel open', () => ssh.stats().channels === 0);

      // A connection that has already run a command (an exec, a bridge) needs no other.
      await ssh.close();
      assert.equal((await ssh.exec(ep, 'echo first', opts())).stdout, 'first\n');
      const log = new CapturingProbeLog(undefined);
      await roundTrip(ssh, ep, echo.path, log);
      assert.equal(commandsStarted(own), 2, 'the exec, and nothing more');
      assert.ok(!log.entries.some((e) => NODELAY_LINE.test(e.msg)));
    });
  } finally {
    await echo.stop();
  }
});

test('stream-local: a server that allows no session (MaxSessions 0) still forwards; the refused command is asked for once', async () => {
  const echo = await startSplitEcho();
  try {
    await withOwnSshd(['MaxSessions 0'], async (ssh, ep, own) => {
      const logs = [0, 1].map(() => new CapturingProbeLog(undefined));
      for (const log of logs) await roundTrip(ssh, ep, echo.path, log);
      const refusals = logs.map((l) => l.entries.filter((e) => /could not run a command for TCP_NODELAY/.test(e.msg)).length);
      assert.deepEqual(refusals, [1, 0]);
      assert.equal(commandsStarted(own), 0);
      assert.equal(ssh.stats().handshakes, 1);
      await waitFor('no channel open', () => ssh.stats().channels === 0);
    });
  } finally {
    await echo.stop();
  }
});

test('stream-local: a forced command that does not end is given up on, and an abort while it runs leaves no channel', async () => {
  const echo = await startSplitEcho();
  try {
    // ForceCommand runs instead of the command asked for, and sleep ignores the closed stdin.
    await withOwnSshd(['ForceCommand sleep 4'], async (ssh, ep) => {
      const aborted = new AbortController();
      setTimeout(() => aborted.abort(new AbortedError('gave up')), 300);
      await assert.rejects(roundTrip(ssh, ep, echo.path, silentProbeLog, aborted.signal), AbortedError);
      await waitFor('no channel open after the abort', () => ssh.stats().channels === 0, { timeoutMs: 20_000 });

      const log = new CapturingProbeLog(undefined);
      await roundTrip(ssh, ep, echo.path, log);
      assert.ok(log.entries.some((e) => /could not run a command for TCP_NODELAY/.test(e.msg) && /within 2000 ms/.test(String(e.fields.error))));
      await waitFor('no channel open once the forced command ends', () => ssh.stats().channels === 0, { timeoutMs: 20_000 });
    });
  } finally {
    await echo.stop();
  }
});
