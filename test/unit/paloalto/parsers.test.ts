import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { detectCliError } from '../../../src/vendors/paloalto/cli-error.js';
import { cleanTerminalText, PANOS_PROMPT_AT_END, parsePromptAtEnd } from '../../../src/vendors/paloalto/prompt.js';
import { toGatewayInfo } from '../../../src/vendors/paloalto/snapshot.js';
import { parseSystemInfo } from '../../../src/vendors/paloalto/system-info.js';
import { parseVpnFlow } from '../../../src/vendors/paloalto/vpn-flow.js';
import { ParseError } from '../../../src/util/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/paloalto/${name}`, import.meta.url), 'utf8');

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
    assert.deepEqual(tunnels.map((t) => [t.name, t.state, t.monitor]), [
      ['localzs3:primarytunnel', 'active', 'up'],
      ['localzs3:backuptunnel', 'inactiv', 'down'],
    ]);
  });

  it('reads zero tunnels, with and without a table header', () => {
    const withHeader = parseVpnFlow(fixture('vpn-flow-zero.txt'));
    assert.deepEqual(withHeader, { tunnels: [], totals: { configured: 0, ipsecConfigured: 0, ipsecShown: 0 } });
    const bare = parseVpnFlow('\ntotal tunnels configured:      0\n\n');
    assert.deepEqual(bare, { tunnels: [], totals: { configured: 0 } });
  });

  it('tolerates \\r\\n, ANSI sequences, an HA prompt and a trailing prompt', () => {
    const { tunnels } = parseVpnFlow(fixture('vpn-flow-noisy.txt'));
    assert.deepEqual(tunnels.map((t) => `${t.id}:${t.name}:${t.state}:${t.monitor}:${t.interface}`), [
      '1:to-dc1:active:up:tunnel.1',
      '2:to-dc2:inactiv:down:tunnel.2',
      '3:to-dc3:init:off:tunnel.3',
    ]);
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
    ['a row without an id', 'total IPSec tunnel shown: 1\nid name state monitor local-ip peer-ip tunnel-i/f\nx y active off 1.1.1.1 2.2.2.2 tunnel.1\n'],
    ['a short row', 'id name state monitor local-ip peer-ip tunnel-i/f\n1 active off\n'],
    ['an unknown column', 'id name state colour local-ip peer-ip\n'],
  ] as const) {
    it(`throws ParseError on ${what}`, () => {
      assert.throws(() => parseVpnFlow(text), ParseError);
    });
  }
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
    assert.equal(info.fields['time'], 'Tue Mar  4 10:15:00 2025');
    assert.equal(info.fields['ipv6-default-gateway'], '');
    assert.deepEqual(toGatewayInfo(info), {
      vendor: 'paloalto', product: 'PAN-OS', os: 'PAN-OS', version: '10.2.9-h1', hostname: 'fw-lab-01',
      model: 'PA-VM', serial: '007951000123456', uptimeSeconds: 1047845,
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
