import { createHmac, createSecretKey } from 'node:crypto';
import type { GatewaySnapshot } from '../model/snapshot.js';
import type { UserLabelMode } from './policy.js';

/**
 * Hex digits kept of a user's HMAC-SHA256: 64 bits. Two of n names share a prefix with
 * probability about n²/2⁶⁵: 2.7·10⁻¹² for 10,000 users, 2.7·10⁻⁸ for a million.
 */
export const USER_HASH_HEX_DIGITS = 16;

/** Names remembered per module, so a concentrator's 10,000 users cost no HMAC on each probe. */
const CACHE_LIMIT = 100_000;

/**
 * The pseudonym of a user: HMAC-SHA256 of the name (UTF-8) under the module's key, as the
 * first 16 hex digits. The same key gives the same pseudonym on every exporter and after
 * every restart, so a user can be followed without being named; without the key, a
 * pseudonym cannot be recomputed from a guessed name. The key is held as a KeyObject,
 * which never prints its material.
 */
export function userHasher(key: string): (name: string) => string {
  const keyObject = createSecretKey(Buffer.from(key, 'utf8'));
  const cache = new Map<string, string>();
  return (name) => {
    let h = cache.get(name);
    if (h === undefined) {
      h = createHmac('sha256', keyObject).update(name, 'utf8').digest('hex').slice(0, USER_HASH_HEX_DIGITS);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(name, h);
    }
    return h;
  };
}

/**
 * The snapshot as a module with `user_labels: hashed` or `dropped` lets it leave the probe,
 * so metrics, /api/probe, /sessions and the pages all show the same thing. Every name or id
 * that identifies a user or peer is replaced by its pseudonym (hashed) or "" (dropped): the
 * user, session ids, IKE and EAP identities, GlobalProtect user names, WireGuard peer names
 * and keys. Public addresses and ports of users, and descriptive fields (computer name),
 * are removed: they identify a person as well as a name does. Tunnels, pools, traffic
 * selectors and virtual addresses (the gateway's own address plan) stay.
 */
export function protectUsers(s: GatewaySnapshot, mode: UserLabelMode, hash?: (name: string) => string): GatewaySnapshot {
  if (mode === 'plain') return s;
  const id = mode === 'hashed' && hash ? hash : () => '';
  const idOf = (v: string | undefined) => (v === undefined ? undefined : id(v));
  const out: GatewaySnapshot = {
    ...s,
    sessions: s.sessions.map((x) => ({
      ...x,
      user: id(x.user),
      id: id(x.id),
      remoteAddress: undefined,
      remotePort: undefined,
      details: undefined,
    })),
  };
  if (s.strongswan) {
    out.strongswan = {
      ...s.strongswan,
      ikeSas: s.strongswan.ikeSas.map((sa) => ({
        ...sa,
        uniqueId: id(sa.uniqueId),
        remoteId: idOf(sa.remoteId),
        remoteUserId: idOf(sa.remoteUserId),
        remoteHost: undefined,
        remotePort: undefined,
      })),
    };
  }
  const gp = s.paloalto?.globalProtect;
  if (s.paloalto && gp) {
    out.paloalto = {
      ...s.paloalto,
      globalProtect: {
        ...gp,
        users: gp.users.map((u) => ({
          ...u,
          username: id(u.username),
          primaryUsername: idOf(u.primaryUsername),
          computer: undefined,
          publicIp: undefined,
        })),
      },
    };
  }
  if (s.wireguard) {
    out.wireguard = {
      ...s.wireguard,
      interfaces: s.wireguard.interfaces.map((i) => ({
        ...i,
        peers: i.peers.map((p) => ({ ...p, publicKey: id(p.publicKey), name: id(p.name), label: id(p.label), endpoint: undefined })),
      })),
    };
  }
  return out;
}
