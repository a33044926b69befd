import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allowListSchema, isAllowed, type AllowList } from '../../../src/config/allow-list.js';
import type { Target } from '../../../src/probe/prober.js';
import { parseTarget } from '../../../src/probe/target.js';
import { parseConfig } from '../../../src/config/modules.js';
import { PROBERS } from '../../../src/probers.js';

const list = allowListSchema(4502).parse(['192.0.2.0/24', '198.51.100.7:22-23', '*.vpn.example.net', 'gw.example.org:*', '[2001:db8::/32]']);
const t = (raw: string, port = 4502) => parseTarget(raw, port);
const check = (l: AllowList | undefined, target: Target) => isAllowed(l, target.host, target.port);

test('CIDR, address with port range, host glob, any port, IPv6 CIDR', () => {
  assert.equal(check(list, t('192.0.2.77')), true);
  assert.equal(check(list, t('192.0.2.77:22')), false);
  assert.equal(check(list, t('198.51.100.7:23')), true);
  assert.equal(check(list, t('198.51.100.7:24')), false);
  assert.equal(check(list, t('198.51.100.7')), false, 'default port 4502 is outside 22-23');
  assert.equal(check(list, t('fw1.vpn.example.net')), true);
  assert.equal(check(list, t('FW1.VPN.Example.NET')), true);
  assert.equal(check(list, t('vpn.example.net.evil.test')), false);
  assert.equal(check(list, t('fw1.vpn.example.net:22')), false);
  assert.equal(check(list, t('gw.example.org:1')), true);
  assert.equal(check(list, t('[2001:db8:1::5]')), true);
  assert.equal(check(list, t('[2001:db9::5]')), false);
  assert.equal(check(undefined, t('203.0.113.9')), true);
});

test('names are never resolved: an IP literal never matches a name glob, a name never a CIDR', () => {
  const names = allowListSchema(22).parse(['*']);
  assert.equal(check(names, t('anything.example', 22)), true);
  assert.equal(check(names, t('192.0.2.1', 22)), false);
  const cidr = allowListSchema(22).parse(['0.0.0.0/0']);
  assert.equal(check(cidr, t('localhost', 22)), false);
});

test('IPv4-mapped IPv6 targets are judged as the IPv4 address they are', () => {
  assert.equal(check(list, t('[::ffff:192.0.2.9]')), true);
  const only = allowListSchema(4502).parse(['198.51.100.0/24']);
  assert.equal(check(only, t('[::ffff:192.0.2.9]')), false);
});

test('a target outside a CIDR is always refused (property)', () => {
  const only = allowListSchema(4502).parse(['192.0.2.0/24']);
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      const inside = ip.startsWith('192.0.2.');
      assert.equal(check(only, t(ip)), inside);
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
  const ok = parseConfig('m.yaml', `${base}    allowed_targets: ["192.0.2.0/24"]\n`, PROBERS);
  assert.equal(ok.modules.get('o')?.allowList?.rules.length, 1);
});
