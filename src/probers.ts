import { ipsecSsh } from './vendors/strongswan/ipsec-ssh.js';
import { openvpnMgmt } from './vendors/openvpn/mgmt.js';
import { openvpnSsh } from './vendors/openvpn/ssh.js';
import { paloaltoApi } from './vendors/paloalto/api.js';
import { paloaltoSsh } from './vendors/paloalto/ssh.js';
import { strongswanViciSsh } from './vendors/strongswan/vici-ssh.js';
import { strongswanViciTcp } from './vendors/strongswan/vici-tcp.js';
import { wireguardSsh } from './vendors/wireguard/ssh.js';
import type { ProberDefinition } from './probe/prober.js';

/** Every prober a module may name in modules.yaml. */
export const PROBERS: ReadonlyMap<string, ProberDefinition> = new Map<string, ProberDefinition>(
  [strongswanViciTcp, strongswanViciSsh, ipsecSsh, openvpnSsh, openvpnMgmt, paloaltoSsh, paloaltoApi, wireguardSsh].map((p) => [p.name, p]),
);
