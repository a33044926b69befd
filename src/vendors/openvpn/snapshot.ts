import type { OpenvpnStatus } from './status.js';
import { MANAGEMENT_STATES } from './mgmt-replies.js';
import type { Certificate, Crl, GatewaySnapshot, OpenvpnManagementDetail, OpenvpnServerDetail, Session, Tunnel, TunnelState } from '../../model/snapshot.js';

export interface OpenvpnStatusRead {
  name: string;
  path: string;
  status: OpenvpnStatus;
  /** Seconds since OpenVPN wrote the file, by the gateway's own clock. */
  ageSeconds?: number;
  /** Read live from the management interface: its state decides the tunnel's. */
  management?: OpenvpnManagementDetail;
}

/** CONNECTED serves; the documented start-up, reconnect and exit states do not; another word is unknown. */
const NOT_SERVING: ReadonlySet<string> = new Set(MANAGEMENT_STATES.filter((s) => s !== 'CONNECTED'));

function tunnelState(management: OpenvpnManagementDetail | undefined): TunnelState {
  if (management === undefined || management.state === 'CONNECTED') return 'up';
  return NOT_SERVING.has(management.state) ? 'down' : 'unknown';
}

/** Each status file is one tunnel (a server instance or a client); each connected client a session. */
export function buildOpenvpnSnapshot(input: {
  reads: readonly OpenvpnStatusRead[];
  nowSeconds: number;
  version?: string;
  hostname?: string;
  /** From the server configurations; absent when none was named or certificates are off. */
  pki?: { certificates: Certificate[]; crls: Crl[] };
}): GatewaySnapshot {
  const tunnels: Tunnel[] = [];
  const sessions: Session[] = [];
  const servers: OpenvpnServerDetail[] = [];
  for (const { name, path, status, ageSeconds, management } of input.reads) {
    const state = tunnelState(management);
    const detail = (text: string) => (management ? `${management.state}, ${text}` : text);
    if (status.format === 'client') {
      tunnels.push({
        name,
        kind: 'site-to-site',
        state,
        detail: detail('client statistics'),
        activeSessions: 0,
        traffic: { bytesIn: status.tunTapWriteBytes ?? 0, bytesOut: status.tunTapReadBytes ?? 0 },
      });
      servers.push({ name, path, format: 'client', ageSeconds, clients: 0, routes: 0, management });
      continue;
    }
    let bytesIn = 0;
    let bytesOut = 0;
    for (const c of status.clients) {
      bytesIn += c.bytesReceived;
      bytesOut += c.bytesSent;
      sessions.push({
        tunnel: name,
        user: c.commonName,
        id: c.clientId !== undefined ? String(c.clientId) : `${c.address ?? ''}:${c.port ?? ''}`,
        protocol: c.protocol ?? undefined,
        state: 'CONNECTED',
        remoteAddress: c.address,
        remotePort: c.port,
        virtualAddresses: [c.virtualAddress, c.virtualIpv6Address].filter((a): a is string => Boolean(a)),
        connectedSeconds: c.connectedSince !== undefined ? Math.max(0, input.nowSeconds - c.connectedSince) : undefined,
        traffic: { bytesIn: c.bytesReceived, bytesOut: c.bytesSent },
      });
    }
    tunnels.push({
      name,
      kind: 'remote-access',
      state,
      detail: detail(`${status.clients.length} client(s)`),
      activeSessions: status.clients.length,
      traffic: { bytesIn, bytesOut },
    });
    servers.push({
      name,
      path,
      format: status.format,
      ageSeconds,
      clients: status.clients.length,
      routes: status.routes.length,
      maxBcastMcastQueueLength: status.globalStats.maxBcastMcastQueueLength,
      dcoEnabled: status.globalStats.dcoEnabled,
      management,
    });
  }
  const titled = input.reads.map((r) => r.status).find((s) => s.format !== 'client' && s.version);
  return {
    info: {
      vendor: 'openvpn',
      product: 'OpenVPN',
      version: input.version ?? (titled && titled.format !== 'client' ? titled.version : undefined),
      hostname: input.hostname,
    },
    tunnels,
    sessions,
    pools: [],
    ...(input.pki ? { certificates: input.pki.certificates, crls: input.pki.crls } : {}),
    openvpn: { servers },
  };
}
