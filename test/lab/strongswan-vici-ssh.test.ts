// The strongswan-vici-ssh prober end to end: the VICI lab's gateway with VICI on charon's unix socket only,
// an OpenSSH sshd beside it that sees that socket (support/vici-ssh-lab.ts), the exporter in-process. Each
// way in — stream-local forwarding as root, a `sudo -n socat` bridge as an unprivileged account, the bridge
// where the server forbids forwarding or allows one session per connection — must answer what swanctl
// reports on the same daemon at the same moment, with all of a probe's VICI commands on one channel;
// each way that cannot work must say why.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import { waitFor } from '../support/wait-for.js';
import { startViciUnixLab, type ViciUnixLab } from './support/strongswan-lab.js';
import { startViciSshGateway, type ViciSshGateway } from './support/vici-ssh-lab.js';
import { assertDaemonAndProbe, assertStrongswanDetail, assertTunnels, assertUsersAndPools, measure } from './support/vici-scenario.js';

let lab: ViciUnixLab;
let gw: ViciSshGateway;
let exporter: TestExporter;

function modules(): string {
  const login = (user: string) => `{username: ${user}, private_key: {file: ${gw.privateKeyFile}}, known_hosts: ${gw.knownHostsFile}}`;
  const root = login(gw.rootUser);
  const mon = login(gw.monitorUser);
  return `modules:
  root_forward:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${root}
  monitor_sudo:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${mon}
    socket_command: "${gw.sudoBridge}"
  monitor_sudo_no_pools:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${mon}
    socket_command: "${gw.sudoBridge}"
    pools: false
  monitor_forward:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${mon}
  root_missing_socket:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${root}
    socket: /var/run/nothing-here.vici
  monitor_unlisted_bridge:
    prober: strongswan-vici-ssh
    timeout: 5s
    ssh: ${mon}
    socket_command: "sudo -n socat STDIO UNIX-CONNECT:/var/run/other.vici"
`;
}

before(async () => {
  lab = await startViciUnixLab();
  gw = await startViciSshGateway(lab);
  exporter = await startTestExporter(modules());
});

after(async () => {
  await exporter?.close();
  await gw?.stop();
  await lab?.stop();
});

/** A full comparison with swanctl, as for strongswan-vici-tcp. */
async function assertMatchesSwanctl(module: string, target: string): Promise<void> {
  const m = await measure(lab.swanctl, () => exporter.get(`/probe?module=${module}&target=${target}`));
  assertDaemonAndProbe(m);
  assertTunnels(m);
  assertUsersAndPools(m);
  assertStrongswanDetail(m);
}

/** The failure reason the probe logged, from its debug output. */
async function failureReason(module: string, target: string): Promise<string> {
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=${module}&target=${target}&debug=true`);
  const text = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(res.status, 200, text);
  assert.match(text, /probe_success 0/, text);
  assert.ok(seconds < 5, `the failure took ${seconds}s, past the module's timeout`);
  const quoted = /probe failed reason="((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  assert.ok(quoted !== undefined, `no failure reason in:\n${text}`);
  // logfmt escapes quotes and backslashes.
  const reason = quoted.replace(/\\(.)/g, '$1');
  assert.doesNotMatch(reason, /timed out|aborted/, 'failed for its reason, not at the deadline');
  return reason;
}

/** How many SSH channels one probe opened (its debug output logs each). */
async function channelsPerProbe(module: string, target: string): Promise<number> {
  const text = await (await exporter.get(`/probe?module=${module}&target=${target}&debug=true`)).text();
  assert.match(text, /probe_success 1/, text);
  return text.split('\n').filter((l) => /^\+[\d.]+s debug +ssh channel open /.test(l)).length;
}

/** Programs the lab's sshd started for `user`'s sessions (it logs each at LogLevel VERBOSE). */
function commandsStarted(user: string): number {
  return gw.logTail(100_000).match(new RegExp(`Starting session: command for ${user} `, 'g'))?.length ?? 0;
}

/** Every channel a probe opened is closed once it is over (a bridge may take a moment to exit). */
async function assertNoChannelLeft(): Promise<void> {
  await waitFor("the exporter's SSH channels to close", async () => exporter.ssh.stats().channels === 0, {
    timeoutMs: 5000,
    intervalMs: 50,
    describe: () => JSON.stringify(exporter.ssh.stats()),
  });
}

describe('through stream-local forwarding as root', () => {
  test('answers what swanctl reports, on one channel of one connection', async () => {
    const handshakes = exporter.ssh.stats().handshakes;
    const commandsBefore = commandsStarted(gw.rootUser);
    await assertMatchesSwanctl('root_forward', gw.targets.open);
    assert.equal(exporter.ssh.stats().handshakes - handshakes, 1, 'one SSH connection carries the VICI session');
    await assertMatchesSwanctl('root_forward', gw.targets.open);
    assert.equal(exporter.ssh.stats().handshakes - handshakes, 1, 'a warm probe reuses it');
    assert.equal(await channelsPerProbe('root_forward', gw.targets.open), 1, 'every VICI command on one stream-local channel');
    // sshd 9.2 turns Nagle off for a connection once a session on it starts a program: one, not one a probe.
    assert.equal(commandsStarted(gw.rootUser) - commandsBefore, 1, "sshd started one command on the forward's connection");
    await assertNoChannelLeft();
  });

  test('a socket that is not there is named as missing', async () => {
    const reason = await failureReason('root_missing_socket', gw.targets.open);
    assert.match(reason, /\/var\/run\/nothing-here\.vici does not exist/);
    await assertNoChannelLeft();
  });
});

describe('as an unprivileged account', () => {
  test("without socket_command, the socket's permissions are named and the bridge suggested", async () => {
    const reason = await failureReason('monitor_forward', gw.targets.open);
    assert.match(reason, new RegExp(`permission denied, ${gw.monitorUser} may not open /var/run/charon\\.vici`));
    assert.match(reason, /socket_command/);
  });

  test('through `sudo -n socat`, answers what swanctl reports, with one bridge per probe', async () => {
    await assertMatchesSwanctl('monitor_sudo', gw.targets.open);
    assert.equal(await channelsPerProbe('monitor_sudo', gw.targets.open), 1, 'one sudo+socat for all VICI commands');
    await assertNoChannelLeft();
  });

  test("a bridge sudo refuses fails with sudo's own words", async () => {
    const reason = await failureReason('monitor_unlisted_bridge', gw.targets.open);
    assert.match(reason, /socket_command "sudo -n socat STDIO UNIX-CONNECT:\/var\/run\/other\.vici" exited with code 1: sudo: a password is required/);
    await assertNoChannelLeft();
  });
});

describe('where sshd says AllowStreamLocalForwarding no', () => {
  test("forwarding fails with the server's words and the reason", async () => {
    const reason = await failureReason('root_forward', gw.targets.noForward);
    assert.match(reason, /the SSH server refused a stream to \/var\/run\/charon\.vici \("open failed"\)/);
    assert.match(reason, /forbids stream-local forwarding/);
    assert.match(gw.logTail(200), /refused streamlocal port forward/, "sshd's log agrees");
  });

  test('the socat bridge still answers what swanctl reports', async () => {
    await assertMatchesSwanctl('monitor_sudo', gw.targets.noForward);
    await assertNoChannelLeft();
  });
});

describe('where sshd allows one session per connection (MaxSessions 1)', () => {
  test('the bridges of probes at once get a connection each and answer what swanctl reports', async () => {
    // A probe runs one bridge; two probes at once (the per-target limit) need two sessions. Two
    // modules with the same login, since the same probe asked twice at once is run once.
    const probe = (module: string) => exporter.get(`/probe?module=${module}&target=${gw.targets.oneSession}`).then((r) => r.text());
    const twoAtOnce = async () => {
      for (const text of await Promise.all([probe('monitor_sudo'), probe('monitor_sudo_no_pools')])) assert.match(text, /^probe_success 1$/m, text);
    };
    await twoAtOnce();
    assert.ok(
      exporter.logs.some((l) => /limits sessions per connection/.test(l) && l.includes(gw.targets.oneSession.split(':')[1] ?? '?')),
      'the pool learned the limit',
    );
    // Learned once, the next probes go straight to a connection per session.
    const handshakes = exporter.ssh.stats().handshakes;
    await twoAtOnce();
    assert.ok(exporter.ssh.stats().handshakes - handshakes >= 1, 'the two bridges did not share a connection');
    await assertMatchesSwanctl('monitor_sudo', gw.targets.oneSession);
    await assertNoChannelLeft();
  });
});
