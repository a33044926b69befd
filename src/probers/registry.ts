import { ipsecSsh } from './ipsec-ssh.js';
import { openvpnSsh } from './openvpn-ssh.js';
import { paloaltoSsh } from './paloalto-ssh.js';
import { strongswanViciTcp } from './strongswan-vici-tcp.js';
import type { ProberDefinition } from './types.js';

/** Every prober a module may name in modules.yaml. */
export const PROBERS: ReadonlyMap<string, ProberDefinition> = new Map<string, ProberDefinition>(
  [strongswanViciTcp, ipsecSsh, openvpnSsh, paloaltoSsh].map((p) => [p.name, p]),
);
