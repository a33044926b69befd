import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CONFIG_FILTER_AWK, WG_FIELDS, parseWgConfigNames, parseWgShowAll, type WgField, type WgInterfaceRecord } from '../../../src/vendors/wireguard/show.js';
import { ParseError } from '../../../src/util/errors.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/wireguard/${name}`, import.meta.url), 'utf8');

/** A fixture's "### <field>" sections, its leading "#" comment lines dropped. */
function sections(name: string): Record<WgField, string> {
  const out = Object.fromEntries(WG_FIELDS.map((f) => [f, ''])) as Record<WgField, string>;
  let current: WgField | undefined;
  for (const line of fixture(name).split('\n')) {
    const m = /^### ([a-z-]+)\r?$/.exec(line);
    if (m) {
      current = m[1] as WgField;
      continue;
    }
    if (current) out[current] += `${line}\n`;
  }
  return out;
}

const A = 'Gs+urE9i6yncwNKW9hf+EcNrW2Hhoae5Bt1EB0a3jXQ=';
const B = '8NY/I2RMIstg4iNLhgoM7f0KjpEFuQtL05Hz+nJ6jFg=';
const C = 'IZkTfJ+Me8LVd/7RDOm1XNSvHzWjpDKE5TBuFxEZMnY=';
const D = 'AFJapbZZ3cvCgrEN2+tfnsD++zmz+r5bw+SgNXynDgk=';
const S0 = 'BY/JehHuk2BznHuTAwhuTAPQHJ/Gkea13gQW+COxzUQ=';
const S1 = 'dMXA1nZef0EScBUYrcWED1aTHiAf9AEvn+7y3VXhT08=';

const byName = (ifaces: WgInterfaceRecord[], name: string): WgInterfaceRecord => {
  const i = ifaces.find((x) => x.name === name);
  assert.ok(i, `interface ${name}`);
  return i;
};

describe('wg show all <field>', () => {
  it('reads wireguard-tools 1.0.20210914: interfaces, peers, (none) endpoints, never, off, the endpoints quirk', () => {
    const { interfaces, skippedLines } = parseWgShowAll(sections('show-all-1.0.20210914.txt'));
    assert.equal(skippedLines, 0);
    assert.deepEqual(
      interfaces.map((i) => i.name),
      ['wg0', 'wg1', 'wg2'],
    );
    const wg2 = byName(interfaces, 'wg2');
    assert.deepEqual(wg2, { name: 'wg2', publicKey: undefined, listenPort: 0, peers: [] });
    const wg0 = byName(interfaces, 'wg0');
    assert.equal(wg0.publicKey, S0);
    assert.equal(wg0.listenPort, 51820);
    assert.deepEqual(wg0.peers, [
      {
        publicKey: A,
        endpoint: '192.0.2.11:40001',
        allowedIps: ['198.51.100.2/32', '203.0.113.16/28'],
        latestHandshake: 1796180000,
        rxBytes: 123456,
        txBytes: 654321,
        persistentKeepalive: 25,
      },
      { publicKey: B, allowedIps: ['198.51.100.3/32'], latestHandshake: undefined, rxBytes: 0, txBytes: 0, persistentKeepalive: undefined },
      {
        publicKey: C,
        endpoint: '[2001:db8::c]:51820',
        allowedIps: [],
        latestHandshake: 1796179000,
        rxBytes: 42,
        txBytes: 9000000000,
        persistentKeepalive: undefined,
      },
    ]);
    const wg1 = byName(interfaces, 'wg1');
    assert.equal(wg1.publicKey, S1);
    assert.deepEqual(
      wg1.peers.map((p) => [p.publicKey, p.endpoint, p.persistentKeepalive]),
      [[D, '198.51.100.7:51820', 60]],
    );
  });

  it('skips extra columns, unknown lines and unknown allowed-ips entries, and keeps an interface with no peers', () => {
    const { interfaces, skippedLines } = parseWgShowAll(sections('show-all-future-columns.txt'));
    assert.equal(skippedLines, 2, 'the warning line and "fe80::/ten"');
    assert.deepEqual(
      interfaces.map((i) => [i.name, i.publicKey, i.listenPort, i.peers.length]),
      [
        ['wg0', S0, 51820, 1],
        ['wg9', S1, 51999, 0],
      ],
    );
    assert.deepEqual(byName(interfaces, 'wg0').peers[0], {
      publicKey: A,
      endpoint: '192.0.2.11:40001',
      allowedIps: ['2001:db8:1::/64', '198.51.100.2/32'],
      latestHandshake: 1796180000,
      rxBytes: 10,
      txBytes: 20,
      persistentKeepalive: undefined,
    });
  });

  it('no interfaces at all is an empty answer, not an error', () => {
    const empty = Object.fromEntries(WG_FIELDS.map((f) => [f, ''])) as Record<WgField, string>;
    assert.deepEqual(parseWgShowAll(empty), { interfaces: [], skippedLines: 0 });
  });

  it('a key-first line whose key two interfaces share cannot be placed and is skipped', () => {
    const out = Object.fromEntries(WG_FIELDS.map((f) => [f, ''])) as Record<WgField, string>;
    out.peers = `wg0\t${A}\nwg1\t${A}\n`;
    out.endpoints = `wg0\t${A}\t192.0.2.1:1\n${A}\t192.0.2.2:2\n`;
    const { interfaces, skippedLines } = parseWgShowAll(out);
    assert.equal(skippedLines, 1);
    assert.deepEqual(
      interfaces.map((i) => [i.name, i.peers[0]?.endpoint]),
      [
        ['wg0', '192.0.2.1:1'],
        ['wg1', undefined],
      ],
    );
  });

  it('garbage in a field fails with a ParseError naming the field', () => {
    const out = sections('show-all-1.0.20210914.txt');
    out.transfer = '\u0000\u00ff\ufffd binary \u0007 noise\n\u001b[31mred\n';
    assert.throws(
      () => parseWgShowAll(out),
      (err: unknown) => err instanceof ParseError && /wg show all transfer: no line has the expected form/.test(err.message),
    );
  });

  it('any input either parses or throws a ParseError, never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WG_FIELDS), fc.string({ unit: 'binary', maxLength: 400 }), (field, junk) => {
        const out = sections('show-all-1.0.20210914.txt');
        out[field] = junk;
        try {
          parseWgShowAll(out);
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('peer names from the config files', () => {
  it('takes # Name above [Peer], across blank lines and comments, # friendly_name inside, quoted names', () => {
    const names = parseWgConfigNames(fixture('config-names.txt'));
    assert.deepEqual([...names.keys()], ['wg0', 'wg1']);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'alice laptop', [B]: 'bob', [C]: 'carol' });
    assert.deepEqual(Object.fromEntries(names.get('wg1') ?? []), { [D]: "dave's phone" });
  });

  it("a name comment after a peer's keys, followed by nothing, names that peer", () => {
    const names = parseWgConfigNames(`@@ wg0\n[peer]\nPublicKey = ${A}\n-\n# Name = late\n`);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'late' });
  });

  it('the awk filter on the gateway lets no private or preshared key through, in any spelling', () => {
    const secrets = [
      'cPrivKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      'dPskBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=',
      'eOldCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=',
    ];
    // wg-quick format as wireguard-tools v1.0.20210914 reads it (keys case-insensitive, spaces optional).
    const conf = [
      '[Interface]',
      `PrivateKey = ${secrets[0]}`,
      'ListenPort = 51820',
      `#PrivateKey=${secrets[2]}`,
      `  privatekey=${secrets[0]}\r`,
      '',
      '# Name = alice',
      '[Peer]',
      `PublicKey = ${A}`,
      `PresharedKey = ${secrets[1]}`,
      `  presharedKEY  =  ${secrets[1]}`,
      'AllowedIPs = 198.51.100.2/32',
      '[Peer]',
      '# friendly_name = bob',
      `# old preshared key: ${secrets[1]}`,
      `publickey=${B}`,
      '',
    ].join('\n');
    const r = spawnSync('awk', [CONFIG_FILTER_AWK], { input: conf, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const s of secrets) assert.ok(!r.stdout.includes(s), `a secret passed the filter:\n${r.stdout}`);
    assert.ok(!/198\.51\.100\.2|51820/.test(r.stdout), 'other key lines are blanked too');
    const names = parseWgConfigNames(`@@ wg0\n${r.stdout}`);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'alice', [B]: 'bob' });
  });
});
