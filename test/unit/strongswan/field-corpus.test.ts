// Every fixture of test/fixtures/strongswan-field: parsed without throwing, and built into the snapshot its
// header expects (see that folder's README).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseIpsecConf } from '../../../src/vendors/strongswan/ipsec-conf.js';
import { buildIpsecSnapshot } from '../../../src/vendors/strongswan/ipsec-snapshot.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';

const DIR = join(import.meta.dirname, '../../fixtures/strongswan-field');

interface Expect {
  tunnels: Record<string, [string, string]>;
  sessions: number;
  users: string[];
  shunts?: [string, string, boolean | null][];
  children?: Record<string, [string, number][]>;
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

describe('strongSwan output from the field', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
  it('has fixtures', () => assert.ok(files.length >= 4, files.join(' ')));
  for (const file of files) {
    it(file, () => {
      const { expect, body } = load(file);
      const snap = buildIpsecSnapshot(parseIpsecConf(''), parseIpsecStatus(body), undefined);
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
    });
  }
});
