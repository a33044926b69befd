import type { WgInterfaceRecord } from './show.js';
import type { GatewaySnapshot, Session, Tunnel, WireguardInterfaceDetail, WireguardPeerDetail } from '../../model/snapshot.js';

/** The fallback name of a peer nobody named: the first 8 characters of its key, as wg-quick users know them. */
export const shortKey = (key: string): string => key.slice(0, 8);

/** `192.0.2.1:51820` or `[2001:db8::1]:51820` into address and port. */
function splitEndpoint(endpoint: string | undefined): { address?: string; port?: number } {
  const m = endpoint === undefined ? null : /^\[?(.+?)\]?:(\d{1,5})$/.exec(endpoint);
  return m ? { address: m[1], port: Number(m[2]) } : {};
}

/**
 * Each WireGuard interface is one tunnel, up while it exists (WireGuard has no
 * connection state of its own); each peer whose latest handshake is younger than
 * connected_within is a live session. The tunnel's traffic sums every peer (connected
 * or not), so it only grows while the interface lives.
 */
export function buildWireguardSnapshot(input: {
  interfaces: readonly WgInterfaceRecord[];
  /** Interface -> public key -> name, from the config files. */
  configNames: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Public key -> name, from the module: wins over the config files. */
  moduleNames: Readonly<Record<string, string>>;
  nowSeconds: number;
  connectedWithinSeconds: number;
  version?: string;
  hostname?: string;
}): GatewaySnapshot {
  const tunnels: Tunnel[] = [];
  const sessions: Session[] = [];
  const details: WireguardInterfaceDetail[] = [];
  for (const iface of input.interfaces) {
    const fromConfig = input.configNames.get(iface.name);
    const peers: WireguardPeerDetail[] = iface.peers.map((p) => {
      const moduleName = input.moduleNames[p.publicKey];
      const configName = fromConfig?.get(p.publicKey);
      const [name, nameSource] = moduleName
        ? [moduleName, 'module' as const]
        : configName
          ? [configName, 'config' as const]
          : [shortKey(p.publicKey), 'key' as const];
      const age = p.latestHandshake === undefined ? undefined : Math.max(0, input.nowSeconds - p.latestHandshake);
      return {
        publicKey: p.publicKey,
        name,
        nameSource,
        label: name,
        endpoint: p.endpoint,
        allowedIps: [...p.allowedIps],
        latestHandshakeTimestamp: p.latestHandshake,
        handshakeAgeSeconds: age,
        connected: age !== undefined && age < input.connectedWithinSeconds,
        persistentKeepaliveSeconds: p.persistentKeepalive,
        traffic: { bytesIn: p.rxBytes ?? 0, bytesOut: p.txBytes ?? 0 },
      };
    });
    // Two keys under one name (a person's laptop and phone both "alice") stay two series.
    const counts = new Map<string, number>();
    for (const p of peers) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    for (const p of peers) if ((counts.get(p.name) ?? 0) > 1 && p.nameSource !== 'key') p.label = `${p.name} (${shortKey(p.publicKey)})`;

    const connected = peers.filter((p) => p.connected);
    for (const p of connected) {
      const { address, port } = splitEndpoint(p.endpoint);
      sessions.push({
        tunnel: iface.name,
        user: p.name,
        id: p.publicKey,
        protocol: 'udp',
        state: 'CONNECTED',
        remoteAddress: address,
        remotePort: port,
        virtualAddresses: [...p.allowedIps],
        traffic: { ...p.traffic },
        // For /sessions and the pages (never labels): what tells a peer apart and how fresh it is.
        details: {
          publicKey: p.publicKey,
          ...(p.latestHandshakeTimestamp !== undefined
            ? {
                latestHandshake: new Date(p.latestHandshakeTimestamp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
                handshakeAgeSeconds: String(p.handshakeAgeSeconds),
              }
            : {}),
          ...(p.persistentKeepaliveSeconds !== undefined ? { persistentKeepaliveSeconds: String(p.persistentKeepaliveSeconds) } : {}),
        },
      });
    }
    tunnels.push({
      name: iface.name,
      kind: 'remote-access',
      state: 'up',
      detail: `${connected.length} of ${peers.length} peer(s) connected`,
      activeSessions: connected.length,
      traffic: {
        bytesIn: peers.reduce((n, p) => n + p.traffic.bytesIn, 0),
        bytesOut: peers.reduce((n, p) => n + p.traffic.bytesOut, 0),
      },
    });
    details.push({ name: iface.name, publicKey: iface.publicKey, listenPort: iface.listenPort, peers });
  }
  return {
    info: { vendor: 'wireguard', product: 'WireGuard', version: input.version, hostname: input.hostname },
    tunnels,
    sessions,
    pools: [],
    wireguard: { interfaces: details, connectedWithinSeconds: input.connectedWithinSeconds },
  };
}
