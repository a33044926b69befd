import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildPaloaltoSnapshot } from '../../../src/vendors/paloalto/snapshot.js';
import { readApiResponse } from '../../../src/vendors/paloalto/xml.js';
import {
  parseGpCurrentUsersXml,
  parseGpStatisticsXml,
  parseHaStateXml,
  parseIkeSaXml,
  parseIpsecSaXml,
  parseSystemInfoXml,
  parseVpnFlowXml,
} from '../../../src/vendors/paloalto/xml-parsers.js';
import { ParseError, ProbeError, ProtocolError } from '../../../src/util/errors.js';

/** The `<result>` of a fixture (each opens with a comment naming the PAN-OS version it shows). */
function result(name: string) {
  const text = readFileSync(`test/fixtures/paloalto/xml/${name}`, 'utf8');
  assert.match(text, /^<!-- .*PAN-OS \d+\.\d+/, `${name}: the header names the PAN-OS version`);
  const r = readApiResponse(text);
  assert.equal(r.status, 'success');
  return r.result;
}

describe('PAN-OS XML answers read into the CLI parsers records', () => {
  it('system info: fields by name, unknown and nested elements read past', () => {
    const info = parseSystemInfoXml(result('system-info-11.1.xml'));
    assert.equal(info.hostname, 'fw-edge-02');
    assert.equal(info.model, 'PA-3220');
    assert.equal(info.serial, '013201001234');
    assert.equal(info.swVersion, '11.1.4-h7');
    assert.equal(info.uptimeSeconds, 101 * 86400 + 7 * 3600 + 8 * 60 + 9);
    assert.equal(info.fields['future-element'], 'something a later release adds');
    assert.equal(info.fields.nested, undefined);
  });

  it('vpn flow: proxy-ids, states as printed, extra elements, a wrapped counter, an entry without id skipped', () => {
    const flow = parseVpnFlowXml(result('vpn-flow-10.2.xml'));
    assert.deepEqual(
      flow.tunnels.map((t) => [t.id, t.name, t.state, t.monitor, t.interface, t.peerIp]),
      [
        [10, 'to-hq:net-a', 'active', 'up', 'tunnel.10', '203.0.113.50'],
        [11, 'to-hq:net-b', 'init', 'off', 'tunnel.10', '203.0.113.50'],
        [12, 'to-branch-7', 'inactive', 'off', 'tunnel.12', '203.0.113.7'],
      ],
    );
    assert.equal(flow.skippedLines, 1);
    assert.deepEqual(flow.totals, { configured: 5, ipsecConfigured: 4, ipsecShown: 4 });
    // `inactive` (the XML's full word) is down like the CLI's `inactiv`.
    const snap = buildPaloaltoSnapshot({ system: { fields: {} }, flow });
    assert.deepEqual(
      snap.tunnels.map((t) => t.state),
      ['up', 'down', 'down'],
    );
  });

  it('vpn flow with no tunnel is a valid empty answer; a result that is not one is a ParseError', () => {
    const flow = parseVpnFlowXml(result('vpn-flow-empty.xml'));
    assert.deepEqual(flow.tunnels, []);
    assert.deepEqual(flow.totals, { configured: 0, ipsecConfigured: 0, ipsecShown: 0 });
    assert.throws(() => parseVpnFlowXml(result('ha-disabled.xml')), ParseError);
    assert.throws(() => parseSystemInfoXml(result('vpn-flow-empty.xml')), ParseError);
  });

  it('HA: a passive unit with its peer, the HA1 link in conn-ha1; a standalone unit', () => {
    assert.deepEqual(parseHaStateXml(result('ha-passive-11.1.xml')), {
      enabled: true,
      mode: 'Active-Passive',
      localState: 'passive',
      peerState: 'active',
      peerConnection: 'up',
    });
    assert.deepEqual(parseHaStateXml(result('ha-disabled.xml')), { enabled: false });
  });

  it('IKE SAs: IKEv2 from <mode>, IKEv1 with its exchange mode; an empty result is no SA', () => {
    const { ikeSas } = parseIkeSaXml(result('ike-sa-11.2.xml'));
    assert.deepEqual(ikeSas, [
      {
        version: 2,
        gateway: 'gw-partner',
        gatewayId: 1,
        peerAddress: '203.0.113.60',
        role: 'Init',
        algorithm: 'PSK/DH14/A256/SHA256',
        established: 'Mar.04 09:29:53',
        expiration: 'Mar.04 21:29:53',
      },
      {
        version: 1,
        gateway: 'gw-legacy',
        gatewayId: 2,
        peerAddress: '203.0.113.61',
        role: 'Resp',
        mode: 'Main',
        algorithm: 'PSK/DH2/A128/SHA1',
        established: 'Mar.04 08:00:00',
        expiration: 'Mar.05 08:00:00',
        state: 'MATURE',
      },
    ]);
    assert.deepEqual(parseIkeSaXml(result('ike-sa-empty.xml')), { ikeSas: [], childSas: [] });
  });

  it('IPsec SAs: the algorithm as the CLI prints it, Unlimited and a lifetime beyond 2^53 left out', () => {
    const sas = parseIpsecSaXml(result('ipsec-sa-11.2.xml'));
    assert.equal(sas.length, 2);
    assert.deepEqual(sas[0], {
      tunnel: 'to-partner:net-a',
      gateway: 'gw-partner',
      peerAddress: '203.0.113.60',
      spiIn: '2160946712',
      spiOut: '3067743524',
      algorithm: 'ESP/A256/SHA256',
      gatewayId: 1,
      tunnelId: 2,
      lifetimeSeconds: 3600,
      remainingSeconds: 1898,
    });
    assert.equal(sas[1]?.lifetimeSeconds, undefined);
    assert.equal(sas[1]?.lifetimeKilobytes, 4608000);
  });

  it('GlobalProtect statistics and users: a count beyond 2^53 left out, `::` as no address, the gateway as asked', () => {
    const stats = parseGpStatisticsXml(result('gp-statistics-11.1.xml'));
    assert.deepEqual(stats, {
      gateways: [
        { name: 'gp-ext', currentUsers: 2, previousUsers: 40 },
        { name: 'gp-int', currentUsers: 0 },
      ],
      totalCurrentUsers: 2,
      totalPreviousUsers: 45,
    });
    const users = parseGpCurrentUsersXml(result('gp-current-user-10.1.xml'), 'gp-ext');
    assert.deepEqual(
      users.map((u) => [u.gateway, u.username, u.primaryUsername, u.virtualIp, u.virtualIpv6, u.tunnelType, u.loginEpochSeconds]),
      [
        ['gp-ext', 'dana', 'corp\\dana', '10.40.0.8', undefined, 'IPSec', 1740988872],
        ['gp-ext', 'eve', undefined, '10.40.0.9', undefined, 'SSL', 1741071600],
      ],
    );
  });
});

describe('the XML API envelope', () => {
  it('error responses carry the code and the device words', () => {
    const text = (n: string) => readFileSync(`test/fixtures/paloalto/xml/${n}`, 'utf8');
    assert.deepEqual(readApiResponse(text('error-unknown-command.xml')), {
      status: 'error',
      code: '17',
      message: 'show -> vpn -> flows is unexpected',
      result: {},
    });
    assert.equal(readApiResponse(text('error-invalid-credential.xml')).message, 'Invalid Credential');
  });

  it('garbage, HTML, another XML document and a DTD are protocol errors', () => {
    for (const bad of [
      '',
      '\x00\x01garbage',
      '<html><body>Login</body></html>',
      '<response status="success"><result>',
      '<!DOCTYPE x [<!ENTITY a "b">]><response/>',
    ]) {
      assert.throws(() => readApiResponse(bad), ProtocolError, JSON.stringify(bad));
    }
  });

  it('never throws anything but a ProbeError, and the parsers never throw on any envelope', () => {
    const element = fc.stringMatching(/^[a-z][a-z-]{0,8}$/);
    const xml = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 12 }).map((s) => s.replace(/[<&]/g, '')),
        fc.tuple(element, fc.array(tie('node'), { maxLength: 4 })).map(([n, kids]) => `<${n}>${kids.join('')}</${n}>`),
        fc.constantFrom('<entry><name>x</name><id>1</id></entry>', '<IPSec><entry/></IPSec>', '<Gateway><name>g</name></Gateway>', '<enabled>yes</enabled>'),
      ),
    })).node;
    fc.assert(
      fc.property(xml, (body) => {
        const text = `<response status="success"><result>${body}</result></response>`;
        let r: ReturnType<typeof readApiResponse>;
        try {
          r = readApiResponse(text);
        } catch (err) {
          assert.ok(err instanceof ProbeError, String(err));
          return;
        }
        for (const parse of [parseSystemInfoXml, parseVpnFlowXml, parseHaStateXml, parseIkeSaXml, parseIpsecSaXml, parseGpStatisticsXml]) {
          try {
            parse(r.result);
          } catch (err) {
            assert.ok(err instanceof ParseError, `${parse.name}: ${String(err)}`);
          }
        }
        parseGpCurrentUsersXml(r.result, 'gw');
      }),
      { numRuns: 300 },
    );
  });
});
