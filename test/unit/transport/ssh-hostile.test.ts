import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { silentProbeLog } from '../../../src/log/probe-log.js';
import { createSshTransport } from '../../../src/transport/ssh/transport.js';
import type { ExecOptions, SshEndpoint } from '../../../src/transport/ssh/types.js';
import { AbortedError, SizeLimitError } from '../../../src/util/errors.js';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';

const servers: Record<'silent' | 'stall' | 'flood' | 'echo' | 'kbd', HostileSsh> = {} as never;

before(async () => {
  servers.silent = await startHostileSsh('silent');
  servers.stall = await startHostileSsh('stall-after-auth');
  servers.flood = await startHostileSsh('flood');
  servers.echo = await startHostileSsh('echo');
  servers.kbd = await startHostileSsh('kbd-only', 'kbd-secret');
});

after(async () => {
  for (const s of Object.values(servers)) await s.stop();
});

function endpoint(s: HostileSsh, password = 'x'): SshEndpoint {
  return {
    host: s.host,
    port: s.port,
    credentials: { username: 'probe', password },
    hostKey: { fingerprints: s.hostKeyFingerprint ? [s.hostKeyFingerprint] : [] },
  };
}

function opts(signal: AbortSignal, maxOutputBytes = 1 << 20): ExecOptions {
  return { signal, maxOutputBytes, log: silentProbeLog };
}

/** Sockets and ref'd timers of this process, which a failed call must not leave behind. */
function handles(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return { sockets: info.filter((r) => r === 'TCPSocketWrap').length, timers: info.filter((r) => r === 'Timeout').length };
}

test('a server that never sends a banner fails the call when the signal fires, leaving nothing open', async () => {
  const ssh = createSshTransport();
  const base = handles();
  const started = performance.now();
  await assert.rejects(ssh.exec(endpoint(servers.silent), 'true', opts(AbortSignal.timeout(300))), AbortedError);
  const took = performance.now() - started;
  assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
  await waitFor('the silent server to see the connection closed', () => servers.silent.openConnections() === 0);
  assert.deepEqual(ssh.stats(), { connections: 0, channels: 0, handshakes: 1 });
  await waitFor('sockets and timers back to where they were', () => JSON.stringify(handles()) === JSON.stringify(base), {
    describe: () => `now ${JSON.stringify(handles())}, before ${JSON.stringify(base)}`,
  });
  await ssh.close();
});

test('readyTimeoutMs bounds a handshake when the probe deadline is longer', async () => {
  const ssh = createSshTransport({ readyTimeoutMs: 200 });
  await assert.rejects(ssh.exec(endpoint(servers.silent), 'true', opts(AbortSignal.timeout(10_000))), /handshake with 127\.0\.0\.1:\d+ timed out/);
  await waitFor('the silent server to see the connection closed', () => servers.silent.openConnections() === 0);
  await ssh.close();
});

test('a server that stalls after auth fails at the signal and its connection is dropped', async () => {
  const ssh = createSshTransport();
  const base = handles();
  await assert.rejects(ssh.exec(endpoint(servers.stall), 'true', opts(AbortSignal.timeout(300))), AbortedError);
  await waitFor('the stalling server to see the connection closed', () => servers.stall.openConnections() === 0);
  await waitFor('no connection in the pool', () => ssh.stats().connections === 0);
  await waitFor('sockets and timers back to where they were', () => JSON.stringify(handles()) === JSON.stringify(base), {
    describe: () => `now ${JSON.stringify(handles())}, before ${JSON.stringify(base)}`,
  });
  await ssh.close();
});

test('a flooding command is cut off at maxOutputBytes', async () => {
  const ssh = createSshTransport();
  try {
    await assert.rejects(ssh.exec(endpoint(servers.flood), 'yes', opts(AbortSignal.timeout(5000), 100_000)), SizeLimitError);
  } finally {
    await ssh.close();
  }
});

test('a different host key fails with the presented fingerprint', async () => {
  const ssh = createSshTransport();
  try {
    const ep = endpoint(servers.echo);
    ep.hostKey = { fingerprints: [servers.kbd.hostKeyFingerprint!] };
    await assert.rejects(ssh.exec(ep, 'true', opts(AbortSignal.timeout(5000))), {
      message: `host key for 127.0.0.1:${servers.echo.port} not trusted: presented ${servers.echo.hostKeyFingerprint} (ssh-ed25519)`,
    });
    assert.equal(ssh.stats().connections, 0);
  } finally {
    await ssh.close();
  }
});

test('keyboard-interactive answers the password prompt', async () => {
  const ssh = createSshTransport();
  try {
    const r = await ssh.exec(endpoint(servers.kbd, 'kbd-secret'), 'hello', opts(AbortSignal.timeout(5000)));
    assert.deepEqual(r, { stdout: 'hello\n', stderr: '', exitCode: 0 });
    await assert.rejects(ssh.exec(endpoint(servers.kbd, 'nope'), 'hello', opts(AbortSignal.timeout(5000))), /authentication/);
  } finally {
    await ssh.close();
  }
});

test('many failing calls leave the open file descriptor count where it started', async () => {
  const refused = await freePort();
  const ssh = createSshTransport();
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const untrusted = endpoint(servers.echo);
  untrusted.hostKey = {};
  const kinds = [
    () => ssh.exec({ ...endpoint(servers.echo), port: refused }, 'true', opts(AbortSignal.timeout(5000))),
    () => ssh.exec(untrusted, 'true', opts(AbortSignal.timeout(5000))),
    () => ssh.exec(endpoint(servers.silent), 'true', opts(AbortSignal.timeout(30))),
    () => ssh.exec(endpoint(servers.stall), 'true', opts(AbortSignal.timeout(60))),
  ];
  let failures = 0;
  for (let i = 0; i < 200; i += 10) {
    const batch = Array.from({ length: 10 }, (_, j) => kinds[(i + j) % kinds.length]!());
    for (const r of await Promise.allSettled(batch)) if (r.status === 'rejected') failures++;
  }
  assert.equal(failures, 200);
  await ssh.close();
  await waitFor('open fds back to where they were', () => readdirSync('/proc/self/fd').length <= fdsBefore);
  assert.deepEqual(ssh.stats().connections, 0);
});
