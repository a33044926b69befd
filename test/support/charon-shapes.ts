/**
 * Messages shaped like charon 5.9's VICI output: same keys, order and nesting.
 * Checked against a live charon 5.9.8 (two daemons in network namespaces, one
 * PSK site-to-site and one EAP-MD5 road warrior with a virtual IP); the
 * decoded output re-encoded byte for byte, and these shapes follow it:
 * - optional keys appear only when charon has them: remote-eap-id only when the
 *   EAP identity differs from the IKE one, "initiator" only on the initiator,
 *   integ-alg not with AEAD, a CHILD_SA dh-group only with PFS, use-in/use-out
 *   only after traffic, reauth-time only with reauthentication configured;
 * - CHILD_SAs are keyed "<name>-<uniqueid>"; pool leases are keyed "0", "1"…;
 * - every value is a string, numbers included.
 */
import { toMessage, type ViciMessage } from '../../src/transport/vici/message.js';

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

function spi64(i: number, salt: number): string {
  return hex(Math.imul(i + 1, 0x9e3779b1) ^ salt, 8) + hex(Math.imul(i + 7, 0x85ebca77) ^ salt, 8);
}

function childSa(i: number, name: string, uniqueid: number, vip: string | undefined): ViciMessage {
  const aead = i % 3 === 0;
  const traffic = i % 2 === 0;
  const child: Record<string, string | string[]> = {
    name,
    uniqueid: String(uniqueid),
    reqid: String(i + 1),
    state: 'INSTALLED',
    mode: 'TUNNEL',
    protocol: 'ESP',
    encap: 'yes',
    'spi-in': hex(Math.imul(i + 3, 0x27d4eb2f), 8),
    'spi-out': hex(Math.imul(i + 5, 0x165667b1), 8),
    'encr-alg': aead ? 'AES_GCM_16' : 'AES_CBC',
    'encr-keysize': aead ? '128' : '256',
  };
  if (!aead) child['integ-alg'] = 'HMAC_SHA2_256_128';
  // Only CHILD_SAs negotiated with PFS in a CREATE_CHILD_SA exchange report a group.
  if (i % 6 === 3) child['dh-group'] = 'MODP_2048';
  child['bytes-in'] = String(traffic ? i * 1400 + 165 : 0);
  child['packets-in'] = String(traffic ? i + 5 : 0);
  if (traffic) child['use-in'] = String(i % 60);
  child['bytes-out'] = String(traffic ? i * 2100 + 305 : 0);
  child['packets-out'] = String(traffic ? i + 5 : 0);
  if (traffic) child['use-out'] = String(i % 60);
  child['rekey-time'] = String(3000 + (i % 600));
  child['life-time'] = String(3954 - (i % 100));
  child['install-time'] = String(6 + (i % 100));
  child['local-ts'] = ['10.1.0.0/24'];
  child['remote-ts'] = [vip === undefined ? `10.${2 + ((i >> 8) % 200)}.${i % 256}.0/24` : `${vip}/32`];
  return toMessage(child);
}

/**
 * How SAs spread over conns: `hub` gives three in four SAs a site-to-site conn of their own
 * (a VPN hub with thousands of sites, the most series per SA); `concentrator` puts 99 in 100
 * on one EAP road-warrior conn (a remote-access gateway, the common large deployment).
 */
export type SaMix = 'hub' | 'concentrator';

/** One IKE SA as a list-sa event: `{ <connection name>: { … } }`. */
export function listSaEvent(i: number, mix: SaMix = 'hub'): ViciMessage {
  const roadWarrior = mix === 'hub' ? i % 4 === 1 : i % 100 !== 0;
  const name = roadWarrior ? 'rw-eap' : `site-${i}`;
  const uniqueid = 2 * i + 1;
  const vip = roadWarrior ? `198.51.100.${1 + (i % 250)}` : undefined;
  const ike: Record<string, string | string[] | ViciMessage> = {
    uniqueid: String(uniqueid),
    version: '2',
    state: 'ESTABLISHED',
    'local-host': '192.0.2.1',
    'local-port': '4500',
    'local-id': 'gw-a.example',
    'remote-host': `203.0.113.${1 + (i % 254)}`,
    'remote-port': '4500',
    'remote-id': roadWarrior ? `user${i}` : `gw-${i}.example`,
  };
  if (roadWarrior) ike['remote-eap-id'] = `user${i}@eap.example`;
  if (i % 5 === 2) ike.initiator = 'yes';
  ike['initiator-spi'] = spi64(i, 0x1234);
  ike['responder-spi'] = spi64(i, 0x4321);
  ike['nat-remote'] = 'yes';
  ike['nat-any'] = 'yes';
  ike['encr-alg'] = 'AES_CBC';
  ike['encr-keysize'] = roadWarrior ? '256' : '128';
  ike['integ-alg'] = roadWarrior ? 'HMAC_SHA2_384_192' : 'HMAC_SHA2_256_128';
  ike['prf-alg'] = roadWarrior ? 'PRF_HMAC_SHA2_384' : 'PRF_HMAC_SHA2_256';
  ike['dh-group'] = roadWarrior ? 'ECP_256' : 'MODP_2048';
  ike.established = String(6 + (i % 10_000));
  if (i % 7 === 3) ike['reauth-time'] = String(6803 - (i % 1000));
  else ike['rekey-time'] = String(13_470 + (i % 1000));
  if (vip !== undefined) ike['remote-vips'] = [vip];
  const childName = roadWarrior ? 'rw' : 'net';
  ike['child-sas'] = toMessage({ [`${childName}-${uniqueid + 1}`]: childSa(i, childName, uniqueid + 1, vip) });
  return toMessage({ [name]: toMessage(ike) });
}

export function listSaEvents(count: number, mix: SaMix = 'hub'): ViciMessage[] {
  return Array.from({ length: count }, (_, i) => listSaEvent(i, mix));
}

function authRound(id: Record<string, string>, cls: string): ViciMessage {
  return toMessage({ ...id, class: cls, groups: [], cert_policy: [], certs: [], cacerts: [] });
}

/** One configured connection as a list-conn event. */
export function listConnEvent(i: number): ViciMessage {
  const roadWarrior = i % 2 === 1;
  const name = roadWarrior ? `rw-${i}` : `site-${i}`;
  const child = toMessage({
    mode: 'TUNNEL',
    rekey_time: '3600',
    rekey_bytes: '0',
    rekey_packets: '0',
    dpd_action: 'none',
    close_action: 'none',
    'local-ts': ['10.1.0.0/24'],
    'remote-ts': [roadWarrior ? 'dynamic' : `10.2.${i % 256}.0/24`],
  });
  return toMessage({
    [name]: toMessage({
      local_addrs: ['192.0.2.1'],
      remote_addrs: [roadWarrior ? '%any' : `203.0.113.${1 + (i % 254)}`],
      version: 'IKEv2',
      reauth_time: '0',
      rekey_time: '14400',
      unique: 'UNIQUE_NO',
      'local-1': authRound({ id: 'gw-a.example' }, 'pre-shared key'),
      'remote-1': roadWarrior ? authRound({ eap_id: '%any', 'eap-type': 'EAP_MD5' }, 'EAP') : authRound({ id: `gw-${i}.example` }, 'pre-shared key'),
      children: toMessage({ [roadWarrior ? 'rw' : 'net']: child }),
    }),
  });
}

export function listConnEvents(count: number): ViciMessage[] {
  return Array.from({ length: count }, (_, i) => listConnEvent(i));
}

/** get-pools with `leases=yes`: one section per pool, leases keyed by index. */
export function getPoolsResponse(pools: number, leasesPerPool: number): ViciMessage {
  const out: Record<string, ViciMessage> = {};
  for (let p = 0; p < pools; p++) {
    const leases: Record<string, ViciMessage> = {};
    let online = 0;
    for (let l = 0; l < leasesPerPool; l++) {
      const status = l % 3 === 2 ? 'offline' : 'online';
      if (status === 'online') online++;
      leases[String(l)] = toMessage({ address: `198.51.${100 + p}.${l + 1}`, identity: `user${p}-${l}@eap.example`, status });
    }
    out[`pool-${p}`] = toMessage({
      base: `198.51.${100 + p}.0`,
      size: '254',
      online: String(online),
      offline: String(leasesPerPool - online),
      leases: toMessage(leases),
    });
  }
  return toMessage(out);
}

export function versionResponse(): ViciMessage {
  return toMessage({ daemon: 'charon', version: '5.9.8', sysname: 'Linux', release: '6.1.0-18-amd64', machine: 'x86_64' });
}

export function statsResponse(ikeSas: number, halfOpen = 0): ViciMessage {
  return toMessage({
    uptime: toMessage({ running: '17 seconds', since: 'Nov 24 06:48:41 2026' }),
    workers: toMessage({
      total: '16',
      idle: '7',
      active: toMessage({ critical: '4', high: '0', medium: '5', low: '0' }),
    }),
    queues: toMessage({ critical: '0', high: '0', medium: '0', low: '0' }),
    scheduled: '14',
    ikesas: toMessage({ total: String(ikeSas), 'half-open': String(halfOpen) }),
    plugins: ['charon', 'random', 'nonce', 'aes', 'sha2', 'hmac', 'kdf', 'openssl', 'kernel-netlink', 'socket-default', 'vici'],
    mallinfo: toMessage({ sbrk: '2707456', mmap: '0', used: '880880', free: '1826576' }),
  });
}
