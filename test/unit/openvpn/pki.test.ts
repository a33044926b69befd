// The OpenVPN certificate reading: the very script the prober sends, run here by a real POSIX shell
// and awk over a configuration full of secrets, then parsed. What the script prints is what an SSH
// gateway would send back, so every assertion on it is an assertion on the bytes the exporter receives.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIG_PLAN_AWK, PEM_FILTER_AWK, openvpnPkiSection, parseOpenvpnPki } from '../../../src/vendors/openvpn/pki.js';
import { buildSectionScript, splitSections } from '../../../src/transport/ssh/sections.js';
import { makeLabPki, PKI_NAMES, type LabPki } from '../../lab/support/strongswan-pki.js';

let dir: string;
let pki: LabPki;
/** Every secret planted in the configuration and the files it names; none may come out. */
const secrets: string[] = [];

function secret(label: string): string {
  const s = `SECRET${label}${'Q'.repeat(20)}${secrets.length}`;
  secrets.push(s);
  return s;
}

function keyBlock(kind: string, body: string): string {
  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
}

/** Runs one section exactly as runSections frames it, through sh. */
function runOnGateway(configFile: string, prefix = ''): string {
  const section = openvpnPkiSection('pki0', configFile, prefix);
  const boundary = 'vpnx-test';
  const out = execFileSync('sh', ['-c', buildSectionScript([section], boundary)], { encoding: 'utf8', cwd: '/' });
  for (const s of secrets) assert.ok(!out.includes(s), `a secret left the gateway:\n${out}`);
  const gwKey = readFileSync(pki.gwKey, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));
  for (const l of gwKey) assert.ok(!out.includes(l), `a line of the server's private key left the gateway:\n${out}`);
  return splitSections(out, boundary, ['pki0']).get('pki0')?.output ?? '';
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-ovpn-pki-'));
  pki = makeLabPki(join(dir, 'pki'));
  // Combined file: the certificate and its key in one PEM, as some setups keep them.
  writeFileSync(join(dir, 'pki', 'combined.pem'), readFileSync(pki.gwCert, 'utf8') + readFileSync(pki.gwKey, 'utf8'));
  writeFileSync(join(dir, 'pki', 'ta.key'), keyBlock('OpenVPN Static key V1', secret('TAFILE')));
  writeFileSync(join(dir, 'pki', 'auth.txt'), `user\n${secret('AUTHFILE')}\n`);
  mkdirSync(join(dir, 'with space'));
  copyFileSync(pki.caCert, join(dir, 'with space', 'ca bundle.crt'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenVPN certificates read on the gateway', () => {
  it('reads ca, cert, extra-certs and crl-verify files, relative to cd, and sends no byte of any key', () => {
    const conf = join(dir, 'conf', 'server.conf');
    mkdirSync(join(dir, 'conf'));
    writeFileSync(
      conf,
      [
        '# an OpenVPN 2.6 server configuration',
        'port 1194',
        'cd ../pki',
        `ca "../with space/ca bundle.crt"`,
        'cert combined.pem',
        '--extra-certs ca.crt   # the chain',
        'crl-verify ca.crl.pem',
        'key gw.key',
        'tls-auth ta.key 0',
        'tls-crypt ta.key',
        'secret ta.key',
        'pkcs12 gw.key',
        'auth-user-pass auth.txt',
        'askpass auth.txt',
        'http-proxy-user-pass auth.txt',
        `<tls-crypt>\n${keyBlock('OpenVPN Static key V1', secret('INLINECRYPT'))}</tls-crypt>`,
        `<tls-crypt-v2>\n${keyBlock('OpenVPN tls-crypt-v2 server key', secret('INLINEV2'))}</tls-crypt-v2>`,
        `<tls-auth>\n${keyBlock('OpenVPN Static key V1', secret('INLINEAUTH'))}</tls-auth>`,
        `<secret>\n${keyBlock('OpenVPN Static key V1', secret('INLINESECRET'))}</secret>`,
        `<key>\n${keyBlock('PRIVATE KEY', secret('INLINEKEY'))}</key>`,
        `<pkcs12>\n${secret('INLINEP12')}\n</pkcs12>`,
        '',
      ].join('\n'),
    );
    const read = parseOpenvpnPki(conf, runOnGateway(conf));
    const ee = read.certificates.filter((c) => c.role === 'end-entity');
    assert.deepEqual(
      ee.map((c) => [c.subject, c.hasPrivateKey, c.notAfterTimestamp]),
      [[PKI_NAMES.gwCn, true, pki.gwNotAfter]],
    );
    const cas = read.certificates.filter((c) => c.role === 'ca');
    assert.deepEqual(
      cas.map((c) => [c.subject, c.hasPrivateKey, c.notAfterTimestamp]),
      [
        [PKI_NAMES.caCn, false, pki.caNotAfter],
        [PKI_NAMES.caCn, false, pki.caNotAfter],
      ],
      'the CA from ca and from extra-certs',
    );
    assert.deepEqual(
      read.crls.map((c) => [c.issuer, c.nextUpdateTimestamp]),
      [[PKI_NAMES.caCn, pki.crlNextUpdate]],
    );
    assert.deepEqual(read.notes, [`${conf}: the certificate inside the pkcs12 file is not read: that file holds the private key`]);
  });

  it('reads inline <ca>, <cert>, <extra-certs> and <crl-verify> blocks, all certificates of a bundle', () => {
    const conf = join(dir, 'inline.conf');
    const ca = readFileSync(pki.caCert, 'utf8');
    const cert = readFileSync(pki.gwCert, 'utf8');
    writeFileSync(
      conf,
      [
        `<ca>\n${ca}${cert}</ca>`,
        `<cert>\n${cert}</cert>`,
        `<key>\n${readFileSync(pki.gwKey, 'utf8')}</key>`,
        `  <crl-verify>\r\n${readFileSync(join(pki.dir, 'ca.crl.pem'), 'utf8')}</crl-verify>`,
        `<extra-certs>\n${ca}${keyBlock('PRIVATE KEY', secret('EXTRA'))}</extra-certs>`,
        `<tls-crypt>\n${keyBlock('OpenVPN Static key V1', secret('TLSCRYPT'))}</tls-crypt>`,
        'ca [[INLINE]]',
        '',
      ].join('\n'),
    );
    const read = parseOpenvpnPki(conf, runOnGateway(conf));
    assert.deepEqual(
      read.certificates.map((c) => [c.subject, c.role, c.hasPrivateKey]),
      [
        [PKI_NAMES.caCn, 'ca', false],
        [PKI_NAMES.gwCn, 'ca', false],
        [PKI_NAMES.gwCn, 'end-entity', true],
        [PKI_NAMES.caCn, 'ca', false],
      ],
    );
    assert.deepEqual(
      read.crls.map((c) => c.nextUpdateTimestamp),
      [pki.crlNextUpdate],
    );
    assert.deepEqual(read.notes, []);
  });

  it('names a missing or unreadable file and the crl-verify dir form, and reads the rest', () => {
    const conf = join(dir, 'partial.conf');
    writeFileSync(
      conf,
      [`ca ${pki.caCert}`, `cert ${join(dir, 'nope.crt')}`, `crl-verify ${dir} dir`, `extra-certs ${join(dir, 'pki', 'ta.key')}`, ''].join('\n'),
    );
    const read = parseOpenvpnPki(conf, runOnGateway(conf));
    assert.equal(read.certificates.length, 1);
    assert.equal(read.notes.length, 3, read.notes.join('\n'));
    assert.match(read.notes[0] ?? '', /crl-verify in dir form/);
    assert.match(read.notes[1] ?? '', /^cert .*nope\.crt: cat: .*nope\.crt: No such file/);
    assert.match(read.notes[2] ?? '', /^extra-certs .*ta\.key: no PEM certificate or CRL in it$/);
  });

  it('an unreadable configuration yields a note with the reason, no certificate', () => {
    const missing = join(dir, 'missing.conf');
    const read = parseOpenvpnPki(missing, runOnGateway(missing));
    assert.deepEqual(read.certificates, []);
    assert.match(read.notes.join('\n'), /No such file or directory/);
  });

  it('paths from the configuration never run as shell code', () => {
    const marker = join(dir, 'PWNED');
    const conf = join(dir, 'hostile.conf');
    writeFileSync(
      conf,
      [
        `ca "x$(touch ${marker})y"`,
        `cert ';touch ${marker};'`,
        `extra-certs \`touch ${marker}\``,
        `crl-verify "a\\"; touch ${marker}; b"`,
        `ca -n${marker}`,
        '',
      ].join('\n'),
    );
    const read = parseOpenvpnPki(conf, runOnGateway(conf));
    assert.ok(!existsSync(marker), 'a path ran as a command');
    assert.equal(read.certificates.length, 0);
    assert.equal(read.notes.length, 5, read.notes.join('\n'));
  });

  it('the command prefix applies to each cat, and to nothing else', () => {
    const { command } = openvpnPkiSection('pki0', "/etc/openvpn/server/it's.conf", 'sudo -n ');
    assert.match(command, /^c='\/etc\/openvpn\/server\/it'\\''s\.conf'; \{ sudo -n cat -- "\$c" /);
    assert.equal(command.match(/sudo -n /g)?.length, 2);
    assert.match(command, /sudo -n cat -- "\$p" /);
  });
});

describe('the awk programs', () => {
  const awk = (program: string, input: string, env: Record<string, string> = {}) => {
    const r = spawnSync('awk', [program], { input, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  it("split words as OpenVPN's parse_line does and resolve against the last cd", () => {
    const out = awk(
      CONFIG_PLAN_AWK,
      [
        'cd /srv/ovpn',
        'cd keys',
        "ca 'quoted dir/ca.crt'",
        'cert back\\ slash\\ name.crt',
        'extra-certs "dq \\"x\\".pem" trailing',
        '  ; crl-verify commented.pem',
        'crl-verify ;notacomment',
        'ca #nothing',
        '',
      ].join('\n'),
      { VPNX_DIR: '/etc/openvpn/server' },
    );
    assert.equal(
      out,
      ['@@file ca /srv/ovpn/keys/quoted dir/ca.crt', '@@file cert /srv/ovpn/keys/back slash name.crt', '@@file extra-certs /srv/ovpn/keys/dq "x".pem', ''].join(
        '\n',
      ),
    );
  });

  it('the PEM filter passes certificate and CRL blocks only, and a broken block ends at the next marker', () => {
    const out = awk(
      PEM_FILTER_AWK,
      [
        'Bag Attributes',
        '-----BEGIN CERTIFICATE-----',
        'AAAA',
        '-----BEGIN PRIVATE KEY-----',
        'SECRETKEYLINE',
        '-----END PRIVATE KEY-----',
        '-----BEGIN X509 CRL-----',
        'BBBB',
        '-----END X509 CRL-----',
        '-----BEGIN ENCRYPTED PRIVATE KEY-----',
        'SECRETKEYLINE2',
        '-----END ENCRYPTED PRIVATE KEY-----',
        '',
      ].join('\n'),
    );
    assert.equal(out, ['-----BEGIN CERTIFICATE-----', 'AAAA', '-----BEGIN X509 CRL-----', 'BBBB', '-----END X509 CRL-----', ''].join('\n'));
  });
});
