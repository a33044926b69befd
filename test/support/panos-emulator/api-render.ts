import { gatewayOf, panosTime, renderSystemInfo, upGateways } from './render.js';
import type { PanosScenario } from './scenario.js';

/*
 * The `<result>` of each `type=op` command, in the element names PAN-OS 10.2/11.x answers
 * with (learned from public captures and client libraries; written here, nothing copied).
 * Every value comes from the same scenario the SSH emulator prints, so both probers can be
 * held to the same series.
 */

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<name>value</name>`, or `<name/>` for an empty value, as PAN-OS writes them. */
function el(name: string, value: string | number): string {
  const v = String(value);
  return v === '' ? `<${name}/>` : `<${name}>${esc(v)}</${name}>`;
}

/** `show system info`: the CLI's `key: value` lines, one element each. */
export function xmlSystemInfo(s: PanosScenario, now: Date): string {
  const fields = renderSystemInfo(s, now)
    .filter((l) => l.includes(':'))
    .map((l) => {
      const i = l.indexOf(':');
      return el(l.slice(0, i), l.slice(i + 1).trim());
    });
  return `<system>${fields.join('')}</system>`;
}

export function xmlVpnFlow(s: PanosScenario): string {
  const entries = s.tunnels.map(
    (t, i) =>
      `<entry>${el('name', t.name)}${el('id', t.id)}${el('gwid', i + 1)}${el('inner-if', t.interface)}${el('outer-if', 'ethernet1/1')}` +
      `${el('localip', t.localIp)}${el('peerip', t.peerIp)}${el('state', t.state)}${el('mon', t.monitor)}${el('owner', 1)}</entry>`,
  );
  const other = s.otherTunnels ?? 0;
  return (
    `${el('dp', 'dp0')}${el('total', s.tunnels.length + other)}${el('num_ipsec', s.tunnels.length)}${el('num_sslvpn', other)}` +
    (entries.length > 0 ? `<IPSec>${entries.join('')}</IPSec>` : '<IPSec/>')
  );
}

export function xmlHaState(s: PanosScenario): string {
  const ha = s.ha;
  if (!ha) return el('enabled', 'no');
  return (
    `${el('enabled', 'yes')}<group>${el('mode', ha.mode)}` +
    `<local-info>${el('version', 1)}${el('state', ha.localState)}${el('state-duration', 259200)}${el('mgmt-ip', `${s.ipAddress}/24`)}${el('priority', 100)}${el('preemptive', 'no')}</local-info>` +
    `<peer-info>${el('conn-status', ha.peerConnection)}${el('version', 1)}${el('state', ha.peerState)}${el('state-duration', 259200)}${el('priority', 110)}</peer-info>` +
    `<running-sync>synchronized</running-sync></group>`
  );
}

/** IKE SAs of the gateways with an active tunnel (IKEv2: `mode` says so); none on a passive unit. */
export function xmlIkeSa(s: PanosScenario): string {
  if (s.ha?.localState === 'passive') return '';
  return upGateways(s)
    .map(
      (g) =>
        `<entry>${el('gwid', g.id)}${el('name', g.name)}${el('peer', g.peer)}${el('role', 'Init')}${el('mode', 'IKEv2')}` +
        `${el('algo', 'PSK/DH20/A256/SHA256')}${el('created', 'Mar.04 09:00:01')}${el('expires', 'Mar.04 17:00:01')}</entry>`,
    )
    .join('');
}

function spiDecimal(id: number, n: number): number {
  return (0x9f000000 + id * 0x1010 + n) >>> 0;
}

/** Installed SA pairs of the active tunnels; SPIs in decimal, `kb` the word Unlimited. */
export function xmlIpsecSa(s: PanosScenario): string {
  const up = s.ha?.localState === 'passive' ? [] : s.tunnels.filter((t) => t.state === 'active');
  const gws = upGateways(s);
  const entries = up.map(
    (t) =>
      `<entry>${el('gwid', gws.find((g) => g.name === gatewayOf(t))?.id ?? 0)}${el('gateway', gatewayOf(t))}${el('tid', t.id)}` +
      `<remote>${esc(t.peerIp)}      </remote>${el('name', t.name)}${el('proto', 'ESP')}${el('enc', 'A256')}${el('hash', 'SHA256')}` +
      `${el('i_spi', spiDecimal(t.id, 1))}${el('o_spi', spiDecimal(t.id, 2))}${el('dh', 'DH20')}${el('kb', 'Unlimited')}${el('life', 3600)}${el('remain', 3000 + t.id)}</entry>`,
  );
  return `${entries.length > 0 ? `<entries>${entries.join('')}</entries>` : '<entries/>'}${el('ntun', s.tunnels.length)}${el('nsa', up.length)}`;
}

export function xmlGpStatistics(s: PanosScenario): string {
  const gp = s.globalProtect ?? { gateways: [], users: [] };
  const gateways = gp.gateways.map(
    (g) =>
      `<Gateway>${el('name', g.name)}${el('CurrentUsers', gp.users.filter((u) => u.gateway === g.name).length)}${el('PreviousUsers', g.previousUsers)}</Gateway>`,
  );
  return `${gateways.join('')}${el('TotalCurrentUsers', gp.users.length)}${el(
    'TotalPreviousUsers',
    gp.gateways.reduce((a, g) => a + g.previousUsers, 0),
  )}`;
}

/** Users of every gateway, or of the one `gateway` names; entries do not say which gateway. */
export function xmlGpCurrentUsers(s: PanosScenario, now: Date, gateway?: string): string {
  const users = (s.globalProtect?.users ?? []).filter((u) => gateway === undefined || u.gateway === gateway);
  return users
    .map((u) => {
      const login = new Date(now.getTime() - u.loggedInSecondsAgo * 1000);
      const [domain, user] = u.domainUser.includes('\\') ? (u.domainUser.split('\\') as [string, string]) : ['', u.domainUser];
      return (
        `<entry>${el('domain', domain)}${el('islocal', domain === '' ? 'yes' : 'no')}${el('username', user)}${el('primary-username', u.primaryUsername)}` +
        `${el('region-for-config', '10.0.0.0-10.255.255.255')}${el('source-region', 'DE')}${el('computer', u.computer)}${el('client', u.client)}` +
        `${el('vpn-type', 'Device Level VPN')}${el('host-id', `hid-${u.computer}`)}${el('app-version', '6.2.1-104')}${el('virtual-ip', u.virtualIp)}${el('virtual-ipv6', '::')}` +
        `${el('public-ip', u.publicIp)}${el('public-ipv6', '::')}${el('tunnel-type', u.tunnelType)}${el('public-connection-ipv6', 'no')}${el('client-ip', u.publicIp)}` +
        `${el('login-time', panosTime(login))}${el('login-time-utc', Math.floor(login.getTime() / 1000))}${el('lifetime', 2592000)}</entry>`
      );
    })
    .join('');
}
