import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { detectCliError } from '../../../src/vendors/paloalto/cli-error.js';
import { cleanTerminalText, PANOS_PROMPT_AT_END, parsePromptAtEnd } from '../../../src/vendors/paloalto/prompt.js';
import { toGatewayInfo } from '../../../src/vendors/paloalto/snapshot.js';
import { parseSystemInfo } from '../../../src/vendors/paloalto/system-info.js';
import { parseVpnFlow } from '../../../src/vendors/paloalto/vpn-flow.js';
import { parseCount } from '../../../src/vendors/paloalto/numbers.js';
import { meansNoGlobalProtect, parseGpCurrentUsers, parseGpStatistics } from '../../../src/vendors/paloalto/global-protect.js';
import { isStandbyHaState, parseHaState } from '../../../src/vendors/paloalto/high-availability.js';
import { parseIkeSa, parseIpsecSa } from '../../../src/vendors/paloalto/sa.js';
import { ParseError } from '../../../src/util/errors.js';

/** A fixture's text without its leading `#` header (which says what it represents). */
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/paloalto/${name}`, import.meta.url), 'utf8').replace(/^(?:#.*\n)+/, '');

describe('parseVpnFlow', () => {
  it('reads the sample from a real unit, echo line included', () => {
    const flow = parseVpnFlow(fixture('vpn-flow-real-sample.txt'));
    assert.deepEqual(flow.totals, { configured: 7, ipsecConfigured: 6, ipsecShown: 6 });
    assert.deepEqual(flow.tunnels, [
      { id: 2, name: 'IPSEC-XXX-BANK', state: 'inactiv', monitor: 'off', localIp: '234.64.49.14', peerIp: 'XXX.XX.XX.XX', interface: 'tunnel.3' },
      { id: 3, name: 'IPSEC-XXXXXX', state: 'active', monitor: 'off', localIp: '234.64.49.14', peerIp: 'XXX.XX.XX.XX', interface: 'tunnel.4' },
    ]);
  });

  it('keeps long names, proxy-id names, names with spaces, init state and a bare tunnel interface', () => {
    const { tunnels } = parseVpnFlow(fixture('vpn-flow-long-names.txt'));
    assert.deepEqual(
      tunnels.map((t) => [t.id, t.name, t.state, t.monitor, t.peerIp, t.interface]),
      [
        [5, `IPSEC-${'A'.repeat(48)}-DC-01`, 'active', 'up', '203.0.113.20', 'tunnel.5'],
        [6, 'IPSEC-HQ-TO-AZURE-WESTEUROPE-PRODUCTION-VNET-PRIMARY-LINK:proxy-id-subnet-10-20-0-0', 'init', 'down', '203.0.113.21', 'tunnel.6'],
        [7, 'Branch Office 7', 'inactiv', 'off', '203.0.113.22', 'tunnel.7'],
        [8, 'v6-peer', 'active', 'off', '2001:db8:ffff::2', 'tunnel'],
      ],
    );
  });

  it('reads the older 30-column layout', () => {
    const { tunnels, totals } = parseVpnFlow(fixture('vpn-flow-old-layout.txt'));
    assert.equal(totals.ipsecShown, 2);
    assert.deepEqual(
      tunnels.map((t) => [t.name, t.state, t.monitor]),
      [
        ['localzs3:primarytunnel', 'active', 'up'],
        ['localzs3:backuptunnel', 'inactiv', 'down'],
      ],
    );
  });

  it('reads zero tunnels, with and without a table header', () => {
    const withHeader = parseVpnFlow(fixture('vpn-flow-zero.txt'));
    assert.deepEqual(withHeader, { tunnels: [], totals: { configured: 0, ipsecConfigured: 0, ipsecShown: 0 }, skippedLines: 0, unknownColumns: [] });
    const bare = parseVpnFlow('\ntotal tunnels configured:      0\n\n');
    assert.deepEqual(bare, { tunnels: [], totals: { configured: 0 }, skippedLines: 0, unknownColumns: [] });
  });

  it('tolerates \\r\\n, ANSI sequences, an HA prompt and a trailing prompt', () => {
    const { tunnels } = parseVpnFlow(fixture('vpn-flow-noisy.txt'));
    assert.deepEqual(
      tunnels.map((t) => `${t.id}:${t.name}:${t.state}:${t.monitor}:${t.interface}`),
      ['1:to-dc1:active:up:tunnel.1', '2:to-dc2:inactiv:down:tunnel.2', '3:to-dc3:init:off:tunnel.3'],
    );
  });

  it('keeps an unknown state verbatim and leaves a missing interface blank', () => {
    const text = 'total IPSec tunnel shown: 1\nid name state monitor local-ip peer-ip tunnel-i/f\n9 x rekeying off 10.0.0.1 10.0.0.2\n';
    assert.deepEqual(parseVpnFlow(text).tunnels, [
      { id: 9, name: 'x', state: 'rekeying', monitor: 'off', localIp: '10.0.0.1', peerIp: '10.0.0.2', interface: '' },
    ]);
  });

  for (const [what, text] of [
    ['empty text', ''],
    ['an error answer', 'Invalid syntax.\n'],
    ['system info', fixture('system-info-vm.txt')],
    ['announced tunnels without a table', 'total IPSec tunnel shown: 3\n'],
    ['a header without a state column', 'id name colour local-ip peer-ip\n'],
  ] as const) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => parseVpnFlow(text), ParseError);
    });
  }
});

describe('parseVpnFlow on output it partly does not know', () => {
  it("reads past a newer release's trailing mode column (and any unknown column), by name", () => {
    const flow = parseVpnFlow(fixture('vpn-flow-mode-column.txt'));
    assert.deepEqual(flow.unknownColumns, ['mode']);
    assert.deepEqual(
      flow.tunnels.map((t) => [t.name, t.state, t.monitor, t.peerIp, t.interface]),
      [
        ['to-hq:net-a', 'active', 'up', '203.0.113.50', 'tunnel.10'],
        ['to-hq:net-b', 'inactiv', 'off', '203.0.113.50', 'tunnel.10'],
        ['Branch Office 7', 'init', 'off', '203.0.113.22', ''],
      ],
    );
    const colour = parseVpnFlow('id name colour state local-ip peer-ip tunnel-i/f\n4 t blue active 10.0.0.1 10.0.0.2 tunnel.4\n');
    assert.deepEqual(
      colour.tunnels.map((t) => [t.name, t.state, t.peerIp]),
      [['t', 'active', '10.0.0.2']],
    );
  });

  it('keeps rows that disagree with the totals, and skips lines that are not rows', () => {
    const flow = parseVpnFlow(fixture('vpn-flow-totals-disagree.txt'));
    assert.deepEqual(flow.totals, { configured: 9, ipsecConfigured: 8 });
    assert.deepEqual(
      flow.tunnels.map((t) => t.name),
      ['to-dc1', 'to-dc2', 'to-dc3'],
    );
    assert.equal(flow.skippedLines, 1);
  });

  it('a total beyond 2^53 (a wrapped 64-bit counter) is left unknown, not rounded', () => {
    const flow = parseVpnFlow('total tunnels configured: 18446744073709551615\ntotal IPSec tunnel configured: 2\n');
    assert.deepEqual(flow.totals, { ipsecConfigured: 2 });
    assert.equal(parseCount('9007199254740991'), 9007199254740991);
    assert.equal(parseCount('9007199254740992'), undefined);
    assert.equal(parseCount('18446744073709551615'), undefined);
    assert.equal(parseCount('-1'), undefined);
  });
});

describe('GlobalProtect', () => {
  it('reads users by field name, past fields it does not know', () => {
    const users = parseGpCurrentUsers(fixture('gp-current-user.txt'));
    assert.deepEqual(
      users.map((u) => [
        u.gateway,
        u.tunnelName,
        u.username,
        u.primaryUsername,
        u.computer,
        u.clientOs,
        u.virtualIp,
        u.publicIp,
        u.tunnelType,
        u.loginEpochSeconds,
      ]),
      [
        ['GP-EXT', 'GP-EXT-N', 'corp\\alice', 'alice@corp.example', 'LT-ALICE', 'Windows', '10.31.0.11', '198.51.100.77', 'IPSec', 1740988871],
        ['GP-EXT', 'GP-EXT-N', 'corp\\bob', 'bob@corp.example', 'MBP-BOB', 'Mac', '10.31.0.12', '203.0.113.99', 'SSL', undefined],
        ['GP-INT', 'GP-INT-N', 'carol', undefined, 'carol-linux', 'Linux', '10.32.0.5', '192.0.2.150', 'IPSec', undefined],
      ],
    );
    assert.equal(users[0]?.virtualIpv6, undefined, ':: is no address');
  });

  it('empty output, or a gateway without users, is no users', () => {
    assert.deepEqual(parseGpCurrentUsers(''), []);
    assert.deepEqual(parseGpCurrentUsers('\nGlobalProtect Gateway: GP-EXT (0 users)\nTunnel Name : GP-EXT-N\n'), []);
  });

  it('reads per-gateway and total user counts from statistics', () => {
    assert.deepEqual(parseGpStatistics(fixture('gp-statistics.txt')), {
      gateways: [
        { name: 'GP-EXT', currentUsers: 2, previousUsers: 12 },
        { name: 'GP-INT', currentUsers: 1, previousUsers: 3 },
      ],
      totalCurrentUsers: 3,
      totalPreviousUsers: 15,
    });
  });

  it('tells "no GlobalProtect here" from other refusals', () => {
    assert.equal(meansNoGlobalProtect('Invalid syntax.'), true);
    assert.equal(meansNoGlobalProtect('Server error : GlobalProtect gateway is not configured'), true);
    assert.equal(meansNoGlobalProtect('Server error : permission denied'), false);
  });
});

describe('IKE and IPsec SAs', () => {
  it('"There is no ... SA found" is a valid empty answer', () => {
    assert.deepEqual(parseIkeSa('\nThere is no IKEv1 phase-1 SA found.\n\nThere is no IKEv1 phase-2 SA found.\n\nThere is no IKEv2 SA found.\n'), {
      ikeSas: [],
      childSas: [],
    });
    assert.deepEqual(parseIpsecSa('\nThere is no IPSec SA found.\n'), []);
    assert.throws(() => parseIpsecSa('Unexpected words\n'), ParseError);
  });

  it('reads IKEv1 and IKEv2 SAs and child SAs by column name', () => {
    const { ikeSas, childSas } = parseIkeSa(fixture('vpn-ike-sa.txt'));
    assert.deepEqual(ikeSas, [
      {
        version: 1,
        gateway: 'gw-legacy',
        gatewayId: 1,
        peerAddress: '203.0.113.7',
        role: 'Init',
        mode: 'Main',
        algorithm: 'PSK/DH14/A128/SHA1',
        established: 'Mar.04 09:10:11',
        expiration: 'Mar.04 17:10:11',
        state: '13',
      },
      {
        version: 2,
        gateway: 'gw-to-hq',
        gatewayId: 2,
        peerAddress: '203.0.113.50',
        role: 'Resp',
        algorithm: 'PSK/DH20/A256/SHA384',
        established: 'Mar.04 08:00:00',
        expiration: 'Mar.04 16:00:00',
        state: 'Established',
      },
    ]);
    assert.deepEqual(
      childSas.map((c) => [c.version, c.gateway, c.tunnel, c.state]),
      [
        [1, 'gw-legacy', 'to-legacy', '8'],
        [2, 'gw-to-hq', 'to-hq:net-a', 'Mature'],
        [2, 'gw-to-hq', 'to-hq:net-c', 'Mature'],
      ],
    );
  });

  it('reads IPsec SAs per proxy-id, with lifetimes, whatever the name length', () => {
    const sas = parseIpsecSa(fixture('vpn-ipsec-sa.txt'));
    assert.deepEqual(
      sas.map((s) => [s.tunnel, s.gateway, s.algorithm, s.lifetimeSeconds, s.lifetimeKilobytes, s.remainingSeconds]),
      [
        ['to-hq:net-a', 'gw-to-hq', 'ESP/A256/SHA256', 3600, undefined, 3445],
        ['to-hq:net-c', 'gw-to-hq', 'ESP/A256/SHA256', 3600, undefined, 12],
        [`IPSEC-${'A'.repeat(48)}-DC-01`, 'gw-long(1)', 'ESP/GCM256', 28800, 4608000, 27001],
      ],
    );
  });
});

describe('high availability', () => {
  it('reads local and peer state from an HA unit', () => {
    assert.deepEqual(parseHaState(fixture('ha-state-passive.txt')), {
      enabled: true,
      mode: 'Active-Passive',
      localState: 'passive',
      peerState: 'active',
      peerConnection: 'up',
    });
  });

  it('a unit without HA is not enabled, whatever it prints', () => {
    assert.deepEqual(parseHaState('\nHA not enabled.\n'), { enabled: false });
    assert.deepEqual(parseHaState(''), { enabled: false });
  });

  it('passive, suspended and non-functional units keep their tunnels on standby; active ones do not', () => {
    assert.deepEqual(['active', 'active-primary', 'active-secondary', 'passive', 'suspended', 'non-functional', undefined].map(isStandbyHaState), [
      false,
      false,
      false,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('parseSystemInfo', () => {
  it('lifts the identity fields and converts uptime', () => {
    const info = parseSystemInfo(fixture('system-info-vm.txt'));
    assert.equal(info.hostname, 'fw-lab-01');
    assert.equal(info.ipAddress, '192.0.2.10');
    assert.equal(info.model, 'PA-VM');
    assert.equal(info.serial, '007951000123456');
    assert.equal(info.swVersion, '10.2.9-h1');
    assert.equal(info.family, 'vm');
    assert.equal(info.uptimeSeconds, 12 * 86400 + 3 * 3600 + 4 * 60 + 5);
    assert.equal(info.fields.time, 'Tue Mar  4 10:15:00 2025');
    assert.equal(info.fields['ipv6-default-gateway'], '');
    assert.deepEqual(toGatewayInfo(info), {
      vendor: 'paloalto',
      product: 'PAN-OS',
      os: 'PAN-OS',
      version: '10.2.9-h1',
      hostname: 'fw-lab-01',
      model: 'PA-VM',
      serial: '007951000123456',
      uptimeSeconds: 1047845,
    });
  });

  it('reads noisy output from an HA unit with a one-day uptime', () => {
    const info = parseSystemInfo(fixture('system-info-ha-noisy.txt'));
    assert.equal(info.hostname, 'PA-PRI');
    assert.equal(info.model, 'PA-3410');
    assert.equal(info.uptimeSeconds, 86400 + 7);
    assert.equal(info.haState, undefined);
  });

  it('drops "unknown" serials from the gateway info and keeps an odd uptime out', () => {
    const info = parseSystemInfo('hostname: a\nserial: unknown\nuptime: forever\nha-state: passive\n');
    assert.equal(info.uptimeSeconds, undefined);
    assert.equal(info.haState, 'passive');
    assert.equal(toGatewayInfo(info).serial, undefined);
  });

  it('throws ParseError on text that is not system info', () => {
    assert.throws(() => parseSystemInfo('Unknown command: shwo\n'), ParseError);
    assert.throws(() => parseSystemInfo(fixture('vpn-flow-real-sample.txt')), ParseError);
  });
});

describe('detectCliError', () => {
  for (const [text, expected] of [
    ['Unknown command: foo\n', 'Unknown command: foo'],
    ['\r\nInvalid syntax.\r\n', 'Invalid syntax.'],
    ['\nServer error : Cannot run this command on a passive device\n', 'Server error : Cannot run this command on a passive device'],
    ['Validation Error:\n  rulebase -> security is invalid\n', 'Validation Error:\nrulebase -> security is invalid'],
    ['\x1b[?7hInvalid Syntax.\n', 'Invalid Syntax.'],
  ] as const) {
    it(`recognises ${JSON.stringify(text)}`, () => assert.equal(detectCliError(text), expected));
  }

  it('ignores real output, even output mentioning an error word further down', () => {
    assert.equal(detectCliError(fixture('vpn-flow-real-sample.txt')), undefined);
    assert.equal(detectCliError('hostname: fw\nnote: Server error counters 0\n'), undefined);
    assert.equal(detectCliError(''), undefined);
  });
});

describe('prompt', () => {
  for (const [text, expected] of [
    ['admin@fw01> ', { user: 'admin', host: 'fw01', mode: 'operational' }],
    ['banner\r\nadmin@PA-PRI(active)> ', { user: 'admin', host: 'PA-PRI', haState: 'active', mode: 'operational' }],
    ['x\nadmin@PA-SEC(passive)>', { user: 'admin', host: 'PA-SEC', haState: 'passive', mode: 'operational' }],
    ['x\nops@fw-a.example(active-primary)> ', { user: 'ops', host: 'fw-a.example', haState: 'active-primary', mode: 'operational' }],
    ['[edit]\r\nadmin@fw01# ', { user: 'admin', host: 'fw01', mode: 'configure' }],
    ['x\njdoe@corp.example@fw_02(suspended)# ', { user: 'jdoe@corp.example', host: 'fw_02', haState: 'suspended', mode: 'configure' }],
    ['x\nadmin@PA 5050 B> ', { user: 'admin', host: 'PA 5050 B', mode: 'operational' }],
    ['out\r\n\x1b[Kadmin@fw01> \x1b[?7h', { user: 'admin', host: 'fw01', mode: 'operational' }],
  ] as const) {
    it(`recognises ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parsePromptAtEnd(text), expected);
    });
  }

  for (const text of ['admin@fw01> show vpn flow', 'mail admin@fw01> now', 'total tunnels configured: 7', '--more--', 'admin@fw01>\nmore']) {
    it(`does not take ${JSON.stringify(text)} for a prompt`, () => {
      assert.equal(PANOS_PROMPT_AT_END.test(text), false);
    });
  }

  it('cleans terminal text the way a terminal would show it', () => {
    assert.equal(cleanTerminalText('a\r\nb\x1b[1;32mc\x1b[0m\r\n--more--\r\x1b[Kline'), 'a\nbc\nline');
    assert.equal(cleanTerminalText('abc\rX\x07'), 'Xbc');
  });
});
