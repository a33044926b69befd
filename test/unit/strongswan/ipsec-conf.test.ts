import { mutatedText } from '../../support/mutations.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeIpsecConf, parseIpsecConf } from '../../../src/vendors/strongswan/ipsec-conf.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';
import { ParseError } from '../../../src/util/errors.js';
import { withinCpu } from '../../support/cpu-bound.js';

const read = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const kinds = (text: string): Record<string, string> => Object.fromEntries(parseIpsecConf(text).conns.map((c) => [c.name, c.kind]));
const settingsOf = (text: string, name: string): Record<string, string> | undefined => parseIpsecConf(text).conns.find((c) => c.name === name)?.settings;

describe('ipsec.conf, the configs of the real stroke captures', () => {
  it('gateway: %default and also= applied, classified as starter loaded them', () => {
    const conf = parseIpsecConf(read('strongswan-stroke/gw-ipsec.conf'));
    assert.deepEqual(conf.includes, []);
    assert.deepEqual(conf.setup, { uniqueids: 'yes' });
    assert.deepEqual(Object.fromEntries(conf.conns.map((c) => [c.name, c.kind])), {
      's2s-base': 'ignored',
      s2s: 'site-to-site',
      standby: 'site-to-site',
      noauto: 'ignored',
      'rw-eap': 'multi-user',
      'rw-xauth': 'multi-user',
    });
    assert.deepEqual(
      conf.conns.find((c) => c.name === 's2s'),
      {
        name: 's2s',
        kind: 'site-to-site',
        missingAlso: [],
        settings: {
          keyexchange: 'ikev2',
          ikelifetime: '3h',
          lifetime: '1h',
          authby: 'psk',
          left: '192.0.2.1',
          leftid: '@gw.pz.test',
          leftsubnet: '198.51.100.0/25',
          right: '192.0.2.2',
          rightid: '@peer.pz.test',
          rightsubnet: '198.51.100.128/25',
          auto: 'add',
        },
      },
    );
    assert.equal(conf.conns.find((c) => c.name === 'rw-eap')?.settings.eap_identity, '%identity');
    assert.equal(conf.conns.find((c) => c.name === 'rw-xauth')?.settings.keyexchange, 'ikev1');
  });

  it('the conns it does not ignore are exactly those charon listed', () => {
    const loaded = parseIpsecConf(read('strongswan-stroke/gw-ipsec.conf')).conns.filter((c) => c.kind !== 'ignored');
    const listed = parseIpsecStatus(read('strongswan-stroke/gw-statusall.txt')).connections;
    assert.deepEqual(
      loaded.map((c) => c.name),
      listed.map((c) => c.name),
    );
  });

  it('peer: one site-to-site conn', () => {
    assert.deepEqual(kinds(read('strongswan-stroke/peer-ipsec.conf')), { s2s: 'site-to-site' });
  });

  it('the shared strongSwan lab config, with its include merged', () => {
    const main = parseIpsecConf(read('strongswan/ipsec.conf'));
    assert.deepEqual(main.includes, ['/etc/ipsec.d/policies/lab-extra.conf']);
    const merged = mergeIpsecConf([main, parseIpsecConf(read('strongswan/ipsec.lab-extra.conf'))]);
    const byName = Object.fromEntries(merged.conns.map((c) => [c.name, c]));
    assert.equal(byName.parked?.kind, 'ignored');
    assert.equal(byName['rw-eap']?.kind, 'multi-user');
    assert.equal(byName['site-b']?.settings.left, '192.0.2.1', '%default of the main file reaches the included conn');
    const listed = parseIpsecStatus(read('strongswan/ipsec-statusall.txt'))
      .connections.map((c) => c.name)
      .sort();
    assert.deepEqual(
      merged.conns
        .filter((c) => c.kind !== 'ignored')
        .map((c) => c.name)
        .sort(),
      listed,
    );
  });
});

describe('ipsec.conf, syntax', () => {
  it('comments, quoting, spaces around =, CRLF and version lines', () => {
    const text = [
      'version 2 # old files carry this',
      '# a comment',
      'config setup',
      '  charondebug="ike 2, knl 1"',
      '',
      'conn a   # trailing comment',
      '\tleftid="C=CH, O=Org #1, CN=gw"   # quoted # is data',
      '\tright = 192.0.2.2\r',
      '\t# indented comment',
      '\tauto=start',
      'include /etc/ipsec.d/*.conf',
    ].join('\n');
    const conf = parseIpsecConf(text);
    assert.deepEqual(conf.setup, { charondebug: 'ike 2, knl 1' });
    assert.deepEqual(conf.conns, [
      { name: 'a', kind: 'site-to-site', missingAlso: [], settings: { leftid: 'C=CH, O=Org #1, CN=gw', right: '192.0.2.2', auto: 'start' } },
    ]);
    assert.deepEqual(conf.includes, ['/etc/ipsec.d/*.conf']);
  });

  it('rejects what starter would not read', () => {
    const rejects = (text: string, message: RegExp): void => {
      assert.throws(
        () => parseIpsecConf(text),
        (e: unknown) => e instanceof ParseError && message.test(e.message),
      );
    };
    rejects('  left=1.2.3.4\n', /outside any section/);
    rejects('conn a\n  leftid="unterminated\n', /unterminated quote/);
    rejects('conn a\n  justaword\n', /expected key=value/);
    rejects('conn a\n  "k"=v\n', /bad key/);
    rejects('conn a\n  k="v" extra\n', /text after a quoted value/);
    rejects('connection a\n', /unexpected/);
    rejects('config other\n', /unknown "config other"/);
    rejects('conn a\n  also=b\nconn b\n  also=a\n  auto=add\n', /also= loop through a -> b -> a/);
    rejects('x'.repeat(10_000), /too long/);
    rejects('conn a\n'.repeat(50_001), /more than 50000 lines/);
  });
});

describe('ipsec.conf, inheritance and classification', () => {
  it('own settings beat also=, the first also= beats later ones, and also= beats %default', () => {
    const text = `
conn a
  also=b
  also=c
  right=own
  auto=add
conn b
  leftid=from-b
  leftsubnet=from-b
conn c
  leftid=from-c
  rightsubnet=from-c
  right=from-c
  lifetime=from-c
conn %default
  lifetime=default
  ikelifetime=default
`;
    assert.deepEqual(settingsOf(text, 'a'), {
      lifetime: 'from-c',
      ikelifetime: 'default',
      leftid: 'from-b',
      rightsubnet: 'from-c',
      right: 'own',
      leftsubnet: 'from-b',
      auto: 'add',
    });
  });

  it('an empty value clears what %default or also= set; repeated %default sections merge', () => {
    const text =
      'conn %default\n  keyexchange=ikev2\nconn t\n  keyexchange=ikev1\n  auto=ignore\nconn %default\n  dpddelay=30s\nconn x\n  also=t\n  auto=add\n  keyexchange=\n';
    assert.deepEqual(settingsOf(text, 'x'), { dpddelay: '30s', auto: 'add' });
  });

  it('no auto= means ignored, and also= passes auto=ignore on (both seen on a real starter)', () => {
    assert.deepEqual(kinds('conn lone\n  right=192.0.2.9\nconn tmpl\n  auto=ignore\nconn inherits\n  also=tmpl\nconn overrides\n  also=tmpl\n  auto=add\n'), {
      lone: 'ignored',
      tmpl: 'ignored',
      inherits: 'ignored',
      overrides: 'site-to-site',
    });
    assert.equal(kinds('conn lone\n  right=192.0.2.9\nconn %default\n  auto=route\n').lone, 'site-to-site');
  });

  it('classifies EAP and XAuth in any auth setting as multi-user', () => {
    const k = kinds(
      ['eap:rightauth=eap-mschapv2', 'tls:leftauth=eap-tls', 'round2:rightauth2=xauth', 'rsa:authby=xauthrsasig', 'psk:authby=secret', 'cert:rightauth=pubkey']
        .map((s) => {
          const [n, kv] = s.split(':');
          return `conn ${n}\n  ${kv}\n  auto=add\n`;
        })
        .join(''),
    );
    assert.deepEqual(k, { eap: 'multi-user', tls: 'multi-user', round2: 'multi-user', rsa: 'multi-user', psk: 'site-to-site', cert: 'site-to-site' });
  });

  it('reports also= targets defined elsewhere and resolves them once merged', () => {
    const main = parseIpsecConf('conn a\n  also=base\n  auto=add\ninclude extra.conf\n');
    assert.deepEqual(main.conns[0]?.missingAlso, ['base']);
    const merged = mergeIpsecConf([main, parseIpsecConf('conn base\n  leftauth=eap-md5\n  auto=ignore\n')]);
    assert.deepEqual(
      merged.conns.find((c) => c.name === 'a'),
      {
        name: 'a',
        kind: 'multi-user',
        missingAlso: [],
        settings: { leftauth: 'eap-md5', auto: 'add' },
      },
    );
    assert.deepEqual(merged.includes, ['extra.conf']);
  });

  it('stops a diamond of also= before it explodes', () => {
    const lines = ['conn c0\n  auto=add\n  also=c1\n  also=c1b'];
    for (let i = 1; i < 30; i++) lines.push(`conn c${i}\n  also=c${i + 1}\n  also=c${i + 1}b\nconn c${i}b\n  also=c${i + 1}\n  also=c${i + 1}b`);
    assert.throws(
      () => parseIpsecConf(lines.join('\n')),
      (e: unknown) => e instanceof ParseError && /expands to more than/.test(e.message),
    );
  });
});

function onlyDataOrParseError(text: string): void {
  // The worst case seen is ~12 ms; the bound catches an also= blow-up, which would take seconds.
  withinCpu(500, 'the parse', () => {
    try {
      const conf = parseIpsecConf(text);
      for (const c of conf.conns) assert.ok(['ignored', 'multi-user', 'site-to-site'].includes(c.kind));
    } catch (e) {
      assert.ok(e instanceof ParseError, `threw ${String(e)}`);
    }
  });
}

describe('ipsec.conf, properties', () => {
  const texts = [read('strongswan-stroke/gw-ipsec.conf'), read('strongswan-stroke/peer-ipsec.conf')];
  it('arbitrary text gives data or ParseError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), onlyDataOrParseError), { numRuns: 300 });
  });
  it('arbitrary sections with also= between them give data or ParseError', () => {
    const name = fc.constantFrom('a', 'b', 'c', '%default', '__proto__');
    const setting = fc.oneof(
      name.map((n) => `also=${n}`),
      fc.constantFrom('auto=add', 'auto=ignore', 'rightauth=eap', 'x=', '__proto__=1', 'k="#"'),
    );
    const section = fc.tuple(name, fc.array(setting, { maxLength: 4 })).map(([n, s]) => `conn ${n}\n${s.map((l) => `  ${l}\n`).join('')}`);
    fc.assert(
      fc.property(fc.array(section, { maxLength: 8 }), (ss) => onlyDataOrParseError(ss.join(''))),
      { numRuns: 300 },
    );
  });
  it('mutated real configs give data or ParseError', () => {
    const mutated = mutatedText(texts);
    fc.assert(fc.property(mutated, onlyDataOrParseError), { numRuns: 500 });
  });
});
