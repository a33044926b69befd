import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { silentProbeLog } from '../../../src/log/probe-log.js';
import { ViciClient } from '../../../src/transport/vici/client.js';
import { ProbeTimeoutError } from '../../../src/util/errors.js';
import { fetchViciSnapshot, type OpenVici } from '../../../src/vendors/strongswan/vici-fetch.js';
import { startCharonLike } from '../../support/charon-like.js';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { waitFor } from '../../support/wait-for.js';

/** Opens VICI sessions to 127.0.0.1:port over TCP, counting the attempts. */
function counting(port: number): { open: OpenVici; attempts: () => number } {
  let attempts = 0;
  return {
    open: (signal) => {
      attempts++;
      return ViciClient.connect({ host: '127.0.0.1', port, signal, log: silentProbeLog });
    },
    attempts: () => attempts,
  };
}

const opts = (signal: AbortSignal) => ({ pools: true, certificates: true, signal, log: silentProbeLog });

let charon: ScriptedViciServer;
before(async () => {
  charon = await startCharonLike(20);
});
after(() => charon.close());

test('a gateway that answers: one session, every command, the connection closed', async () => {
  const { open, attempts } = counting(charon.port);
  const before = charon.commands.length;
  const snapshot = await fetchViciSnapshot(open, opts(new AbortController().signal));
  assert.equal(snapshot.sessions.length, 20);
  assert.equal(attempts(), 1);
  const asked = charon.commands.slice(before);
  // This server knows no list-certs: the probe goes on without certificates.
  for (const command of ['version', 'stats', 'get-pools', 'list-sas', 'list-conns']) assert.ok(asked.includes(command), command);
  await waitFor('every session closed', () => charon.openConnections() === 0);
});

test('a refused gateway costs one connection attempt and fails with the refusal', async () => {
  // A port that was free a moment ago: nothing listens on it.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const { open, attempts } = counting(port);
  await assert.rejects(fetchViciSnapshot(open, opts(new AbortController().signal)), /connection refused by 127\.0\.0\.1:\d+/);
  assert.equal(attempts(), 1);
});

test('a gateway that never accepts: one attempt, cancelled by the probe signal with its reason', async () => {
  let attempts = 0;
  // An open that never completes until the probe gives up, as a SYN into a black hole.
  const open: OpenVici = (signal) => {
    attempts++;
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };
  const probe = new AbortController();
  const fetching = fetchViciSnapshot(open, opts(probe.signal));
  await new Promise((r) => setTimeout(r, 20));
  probe.abort(new ProbeTimeoutError());
  await assert.rejects(fetching, ProbeTimeoutError);
  assert.equal(attempts, 1);
});
