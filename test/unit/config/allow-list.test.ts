import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allowListSchema, checkAllowed } from '../../../src/config/allow-list.js';
import { parseTarget, type Target } from '../../../src/probe/target.js';
import { parseConfig } from '../../../src/config/modules.js';
import { PROBERS } from '../../../src/probers.js';

const list = allowListSchema(4502).parse([
  '192.0.2.0/24',
  '198.51.100.7:22-23',
  '*.vpn.example.net',
  'gw.example.org:*',
  '[2001:db8::/32]',
]);
const t = (raw: string, port = 4502) => parseTarget(raw, port) as Target;

test('CIDR, address with port range, host glob, any port, IPv6 CIDR', () => {
  assert.equal(checkAllowed(list, t('192.0.2.77')), undefined);
  assert.match(checkAllowed(list, t('192.0.2.77:22')) ?? '', /not in this module's allowed_targets/);
  assert.equal(checkAllowed(list, t('198.51.100.7:23')), undefined);
  assert.notEqual(checkAllowed(list, t('198.51.100.7:24')), undefined);
  assert.notEqual(checkAllowed(list, t('198.51.100.7')), undefined, 'default port 4502 is outside 22-23');
  assert.equal(checkAllowed(list, t('fw1.vpn.example.net')), undefined);
  assert.equal(checkAllowed(list, t('FW1.VPN.Example.NET')), undefined);
  assert.notEqual(checkAllowed(list, t('vpn.example.net.evil.test')), undefined);
  assert.notEqual(checkAllowed(list, t('fw1.vpn.example.net:22')), undefined);
  assert.equal(checkAllowed(list, t('gw.example.org:1')), undefined);
  assert.equal(checkAllowed(list, t('[2001:db8:1::5]')), undefined);
  assert.notEqual(checkAllowed(list, t('[2001:db9::5]')), undefined);
  assert.equal(checkAllowed(undefined, t('203.0.113.9')), undefined);
});

test('names are never resolved: an IP literal never matches a name glob, a name never a CIDR', () => {
  const names = allowListSchema(22).parse(['*']);
  assert.equal(checkAllowed(names, t('anything.example', 22)), undefined);
  assert.notEqual(checkAllowed(names, t('192.0.2.1', 22)), undefined);
  const cidr = allowListSchema(22).parse(['0.0.0.0/0']);
  assert.notEqual(checkAllowed(cidr, t('localhost', 22)), undefined);
});

test('IPv4-mapped IPv6 targets are judged as the IPv4 address they are', () => {
  assert.equal(checkAllowed(list, t('[::ffff:192.0.2.9]')), undefined);
  const only = allowListSchema(4502).parse(['198.51.100.0/24']);
  assert.notEqual(checkAllowed(only, t('[::ffff:192.0.2.9]')), undefined);
});

test('a target outside a CIDR is always refused (property)', () => {
  const only = allowListSchema(4502).parse(['192.0.2.0/24']);
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      const inside = ip.startsWith('192.0.2.');
      assert.equal(checkAllowed(only, t(ip)) === undefined, inside);
    }),
    { numRuns: 2000 },
  );
});

test('bad entries are configuration errors with their index', () => {
  for (const bad of [['10.0.0.0/33'], ['host:70000'], ['host:5-2'], ['a b'], []]) {
    assert.equal(allowListSchema(22).safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.throws(
    () => parseConfig('m.yaml', 'modules:\n  v:\n    prober: strongswan-vici-tcp\n    allowed_targets: ["192.0.2.0/24", "300.1.1.1/8"]\n', PROBERS),
    /m\.yaml: modules\.v\.allowed_targets\[1\]: "300\.1\.1\.1\/8" is not a valid CIDR/,
  );
});

test('a module that skips host key verification must list its targets', () => {
  const base = `modules:
  o:
    prober: openvpn-ssh
    ssh: {username: mon, password: x, insecure_skip_host_key_verify: true}
    status_files: [{name: udp, path: /run/openvpn/udp.status}]
`;
  assert.throws(() => parseConfig('m.yaml', base, PROBERS), /modules\.o: the module skips host key verification, so allowed_targets is required/);
  const ok = parseConfig('m.yaml', base + '    allowed_targets: ["192.0.2.0/24"]\n', PROBERS);
  assert.equal(ok.modules.get('o')?.allowList?.rules.length, 1);
});
