// Every fixture of test/fixtures/strongswan-field: parsed without throwing, and built into the snapshot its
// header expects (see that folder's README).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseIpsecConf } from '../../../src/vendors/strongswan/ipsec-conf.js';
import { buildIpsecSnapshot } from '../../../src/vendors/strongswan/ipsec-snapshot.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';
import { decode, encode, toMessage } from '../../../src/transport/vici/message.js';
import type { ConfiguredConn } from '../../../src/vendors/strongswan/records.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';
import { decodeListSaEvent, readListSaEvent } from '../../../src/vendors/strongswan/vici-list-sa.js';
import { parseListConnEvent, parseListSaEvent } from '../../../src/vendors/strongswan/vici-records.js';
import { ProtocolError } from '../../../src/util/errors.js';
import type { GatewaySnapshot, StrongswanIkeSa } from '../../../src/model/snapshot.js';
import { parsePretty } from '../../lab/support/vici-compare.js';

const DIR = join(import.meta.dirname, '../../fixtures/strongswan-field');

interface Expect {
  tunnels: Record<string, [string, string]>;
  sessions: number;
  users: string[];
  shunts?: [string, string, boolean | null][];
  children?: Record<string, [string, number][]>;
  /** A tunnel's own IKE_SAs (activeSessions): a conn whose CHILD_SA rides another conn's IKE_SA has none. */
  tunnelSessions?: Record<string, number>;
  /** Bytes in per tunnel: each CHILD_SA counts for the conn that configures it, whichever IKE_SA carries it. */
  bytesIn?: Record<string, number>;
}

function load(file: string): { header: string[]; expect: Expect; body: string } {
  const text = readFileSync(join(DIR, file), 'utf8');
  const split = text.indexOf('\n---\n');
  assert.ok(split > 0, `${file} has a header and a --- line`);
  const header = text.slice(0, split).split('\n');
  assert.ok(
    header.every((l) => l.startsWith('#')),
    `${file}: header lines start with #`,
  );
  assert.match(header[0] ?? '', /strongSwan \d+\.\d+/, `${file}: the header names the version`);
  const expectLine = header.find((l) => l.startsWith('# expect: '));
  assert.ok(expectLine, `${file} says what to expect`);
  return { header, expect: JSON.parse(expectLine.slice('# expect: '.length)) as Expect, body: text.slice(split + 5) };
}

/**
 * `swanctl --list-conns --pretty` and `--list-sas --pretty` output (the daemon's VICI messages printed one
 * item a line), each message sent through the wire codec (encoded to VICI bytes and decoded) before the
 * prober's parsers see it, as a probe's would be. list-sa events are read from their bytes as the prober
 * reads them, and must give what the generic path (decode, then parseListSaEvent) gives.
 */
function fromPretty(body: string): GatewaySnapshot {
  const conns: ConfiguredConn[] = [];
  const ikeSas: StrongswanIkeSa[] = [];
  for (const m of parsePretty(body)) {
    if (m.type !== 'event') continue;
    const bytes = encode(toMessage(m.body));
    if (m.name === 'list-conn') conns.push(...parseListConnEvent(decode(bytes)));
    else if (m.name === 'list-sa') {
      const records = readListSaEvent(bytes);
      assert.ok(records, 'a field list-sa event is read from its bytes');
      assert.deepStrictEqual(records, parseListSaEvent(decode(bytes)), 'the same records as the generic path');
      for (let cut = 1; cut < bytes.length; cut += 7) {
        assert.throws(() => decodeListSaEvent(bytes.subarray(0, cut)), ProtocolError, 'a truncated event is a ProtocolError');
      }
      ikeSas.push(...records);
    }
  }
  return buildStrongswanSnapshot({ info: { product: 'charon' }, conns, ikeSas, pools: [] });
}

describe('strongSwan output from the field', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
  it('has fixtures', () => assert.ok(files.length >= 4, files.join(' ')));
  for (const file of files) {
    it(file, () => {
      const { expect, body } = load(file);
      const snap = file.endsWith('.pretty.txt') ? fromPretty(body) : buildIpsecSnapshot(parseIpsecConf(''), parseIpsecStatus(body), undefined);
      assert.deepEqual(Object.fromEntries(snap.tunnels.map((t) => [t.name, [t.kind, t.state]])), expect.tunnels, 'tunnels, their kind and state');
      assert.equal(snap.sessions.length, expect.sessions, 'sessions');
      assert.deepEqual(snap.sessions.map((s) => s.user).sort(), [...expect.users].sort(), 'users');
      assert.deepEqual(
        (snap.shunts ?? []).map((s) => [s.conn, s.mode, s.installed ?? null]),
        expect.shunts ?? [],
        'shunts',
      );
      for (const [tunnel, children] of Object.entries(expect.children ?? {})) {
        const t = snap.tunnels.find((x) => x.name === tunnel);
        assert.deepEqual(
          t?.children?.map((c) => [c.name, c.installed]),
          children,
          `children of ${tunnel}`,
        );
      }
      const perTunnel = (pick: (t: (typeof snap.tunnels)[number]) => number, names: Record<string, number>) =>
        Object.fromEntries(Object.keys(names).map((n) => [n, pick(snap.tunnels.find((t) => t.name === n) ?? ({} as never))]));
      if (expect.tunnelSessions)
        assert.deepEqual(
          perTunnel((t) => t.activeSessions, expect.tunnelSessions),
          expect.tunnelSessions,
          'sessions per tunnel',
        );
      if (expect.bytesIn)
        assert.deepEqual(
          perTunnel((t) => t.traffic?.bytesIn ?? 0, expect.bytesIn),
          expect.bytesIn,
          'bytes in per tunnel',
        );
    });
  }
});
