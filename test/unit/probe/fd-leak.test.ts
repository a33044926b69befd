import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';
import { startViciServer, type ScriptedViciServer } from '../../support/vici-server.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { openFdsExceptHttp } from '../../support/open-fds.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';

const PROBES = Number(process.env.FD_PROBES ?? 1000);
let exporter: TestExporter;
let silent: ScriptedViciServer;
let impostor: HostileSsh;
let refusedPort: number;

/** Open fds, the test client's idle keep-alive connections to the exporter aside. */
const fds = () => openFdsExceptHttp(Number(new URL(exporter.url).port));

before(async () => {
  silent = await startViciServer({ hostile: 'silent' });
  impostor = await startHostileSsh('echo');
  refusedPort = await freePort();
  exporter = await startTestExporter(
    `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: 150ms
  ovpn:
    prober: openvpn-ssh
    timeout: 2s
    ssh: {username: u, password: p, host_key_fingerprints: ["SHA256:${'A'.repeat(43)}"]}
    status_files: [{name: udp, path: /run/x.status}]
`,
    { maxPerTarget: 50, maxConcurrency: 100 },
  );
});
after(async () => {
  await exporter.close();
  await silent.close();
  await impostor.stop();
});

test(`${PROBES} failing probes leave the exporter's open file descriptors where they started`, async () => {
  const targets = [
    `/probe?module=vici&target=127.0.0.1:${refusedPort}`,
    `/probe?module=vici&target=127.0.0.1:${silent.port}`,
    `/probe?module=ovpn&target=127.0.0.1:${impostor.port}`,
  ];
  const probe = async (i: number) => {
    const text = await (await exporter.get(targets[i % targets.length] as string)).text();
    assert.match(text, /^probe_success 0$/m);
  };
  await Promise.all(Array.from({ length: 10 }, (_, i) => probe(i)));
  const before = fds();
  for (let i = 0; i < PROBES; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => probe(i + j)));
  // The silent server's sockets see their close a tick after the fd is gone; the assertions below say what is left.
  // A leak never heals, so waiting long costs nothing when there is none; at a load average of 9 on
  // two cores, sockets took more than the default 10 s to be seen closed.
  await waitFor('fds and connections back to where they were', () => fds() <= before && silent.openConnections() === 0, { timeoutMs: 60_000 }).catch(
    () => undefined,
  );
  assert.ok(fds() <= before, `open file descriptors went from ${before} to ${fds()}`);
  assert.equal(silent.openConnections(), 0);
  assert.equal(exporter.ssh.stats().connections, 0, 'no SSH connection survives a host key refusal');
  const reasons = exporter.logs.filter((l) => /msg="probe failed"/.test(l));
  assert.ok(reasons.some((l) => /refused/.test(l)));
  assert.ok(reasons.some((l) => /timed out/.test(l)));
  assert.ok(reasons.some((l) => /not trusted: presented SHA256:/.test(l)));
});
