// Smoke test of the strongSwan lab itself: the prober tests rely on exactly this scenario.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStrokeLab, startViciLab, type StrokeLab, type ViciLab } from './support/strongswan-lab.js';
import { join } from 'node:path';
import { run, runInNs, runInProcessNs, spawnDaemon } from './support/netns.js';

/** Splits `swanctl --list-sas` text into one block per IKE_SA. */
function ikeBlocks(listSas: string, conn: string): string[] {
  return listSas.split(/^(?=\S)/m).filter((block) => block.startsWith(`${conn}: #`));
}

function packetsOf(block: string, dir: 'in' | 'out'): number {
  const m = new RegExp(`^\\s+${dir}\\s+\\w+,\\s+\\d+ bytes,\\s+(\\d+) packets`, 'm').exec(block);
  return Number(m?.[1] ?? 0);
}

async function labNamespaces(prefix: string): Promise<string[]> {
  const out = (await run('ip', ['netns', 'list'])).stdout;
  return out.split('\n').filter((line) => line.startsWith(prefix));
}

describe('VICI lab', () => {
  let lab: ViciLab;
  before(async () => {
    lab = await startViciLab();
  });
  after(async () => {
    await lab?.stop();
  });

  test('is reached from the test process over TCP on loopback', () => {
    assert.match(lab.target, /^127\.0\.0\.1:\d+$/);
  });

  test('has site-a up with traffic both ways and site-b down', async () => {
    const sas = await lab.swanctl(['--list-sas']);
    const [siteA, ...more] = ikeBlocks(sas, 'site-a');
    assert.ok(siteA, sas);
    assert.equal(more.length, 0);
    assert.match(siteA, /^site-a: #\d+, ESTABLISHED, IKEv2/);
    assert.match(siteA, /^ {2}net-a: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP/m);
    assert.ok(packetsOf(siteA, 'in') > 0 && packetsOf(siteA, 'out') > 0, siteA);
    assert.deepEqual(ikeBlocks(sas, 'site-b'), []);
    const conns = await lab.swanctl(['--list-conns']);
    assert.match(conns, /^site-b: IKEv2/m);
    assert.match(conns, /^ {2}net-b: TUNNEL/m);
  });

  test('has alice and bob on rw-eap and carol on rw-xauth, with pool leases', async () => {
    const raw = await lab.swanctl(['--list-sas', '--raw']);
    assert.match(raw, /remote-eap-id=alice/);
    assert.match(raw, /remote-eap-id=bob/);
    assert.match(raw, /remote-xauth-id=carol/);
    const sas = await lab.swanctl(['--list-sas']);
    assert.equal(ikeBlocks(sas, 'rw-eap').length, 2);
    assert.match(ikeBlocks(sas, 'rw-xauth')[0] ?? '', /ESTABLISHED, IKEv1/);
    const pools = await lab.swanctl(['--list-pools', '--leases']);
    assert.match(pools, /^rw-pool\s+198\.51\.100\.128\s+2 \/ 0 \/ 14$/m);
    assert.match(pools, /^rw-xauth-pool\s+198\.51\.100\.144\s+1 \/ 0 \/ 14$/m);
    for (const user of ['alice', 'bob', 'carol']) assert.match(pools, new RegExp(`online\\s+'${user}'`));
  });

  test('survives a gateway crash and restart', async () => {
    await lab.killCharon();
    await assert.rejects(lab.swanctl(['--stats']));
    await lab.startCharon();
    const stats = await lab.swanctl(['--stats']);
    assert.match(stats, /IKE_SAs: 4 total/);
    const sas = await lab.swanctl(['--list-sas']);
    assert.equal(ikeBlocks(sas, 'rw-eap').length, 2);
    assert.ok(packetsOf(ikeBlocks(sas, 'site-a')[0] ?? '', 'in') > 0, sas);
  });

  test('removes every namespace on stop', async () => {
    const prefix = lab.gatewayNs.replace(/-gw$/, '-');
    assert.ok((await labNamespaces(prefix)).length >= 6);
    await lab.stop();
    assert.deepEqual(await labNamespaces(prefix), []);
  });
});

describe('stroke lab', () => {
  let lab: StrokeLab;
  before(async () => {
    lab = await startStrokeLab();
  });
  after(async () => {
    await lab?.stop();
  });

  test('lists the ipsec.conf conns, including the included file but not auto=ignore', async () => {
    const all = await lab.ipsec(['statusall']);
    for (const conn of ['site-a', 'site-b', 'rw-eap']) assert.match(all, new RegExp(`^\\s+${conn}:\\s+192\\.0\\.2\\.1\\.\\.\\.`, 'm'));
    assert.doesNotMatch(all, /parked/);
    assert.match(all, /^Security Associations \(3 up, 0 connecting\):$/m);
    assert.match(all, /^\s+rw-eap\[\d+\]: ESTABLISHED .*\.\.\.192\.0\.2\.11\[192\.0\.2\.11\]$/m);
    for (const user of ['alice', 'bob']) assert.match(all, new RegExp(`rw-eap\\[\\d+\\]: Remote EAP identity: ${user}$`, 'm'));
    assert.match(all, /^\s+site-a\{\d+\}:\s+AES\S*, [1-9]\d* bytes_i/m);
  });

  test('answers ipsec status NAME for an up and a down conn', async () => {
    assert.match(await lab.ipsec(['status', 'site-a']), /^\s+site-a\{\d+\}:\s+INSTALLED/m);
    assert.match(await lab.ipsec(['status', 'site-b']), /^\s+no match$/m);
  });

  test('lets another process in the gateway namespace reach the same daemon via gatewaySetup', async () => {
    const r = await runInNs(lab.gatewayNs, 'sh', ['-c', `${lab.gatewaySetup}\nipsec status site-a`]);
    assert.match(r.stdout, /site-a\[\d+\]: ESTABLISHED/);
    const addr = await runInNs(lab.gatewayNs, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
    assert.ok(addr.stdout.includes(`${lab.mgmtAddress}/32`));
  });

  test('survives a gateway crash and restart, also for a process that shares its mounts', async () => {
    // Stands in for the sshd the ipsec-ssh tests run next to the gateway: it must outlive the restart.
    const neighbour = spawnDaemon({
      ns: lab.gatewayNs,
      setup: lab.gatewaySetup,
      command: 'sleep',
      args: ['60'],
      logFile: join(lab.dir, 'neighbour.log'),
    });
    try {
      await lab.killCharon();
      await assert.rejects(lab.ipsec(['status']), /failed to connect to stroke socket/);
      await lab.startCharon();
      assert.match(await lab.ipsec(['status']), /^Security Associations \(3 up, 0 connecting\):$/m);
      const seen = await runInProcessNs(neighbour.pid, 'ipsec', ['status', 'site-a']);
      assert.match(seen.stdout, /site-a\{\d+\}:\s+INSTALLED/);
    } finally {
      await neighbour.stop();
    }
  });
});
