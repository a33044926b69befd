/**
 * The vendor-neutral picture of one gateway at one moment. Every prober returns
 * one; metrics, the JSON APIs and the HTML views are all rendered from it, so a
 * dashboard built on the core `vpn_` family covers a mixed fleet.
 *
 * Times are durations in seconds relative to the moment of the probe (the
 * exposition never emits timestamps). Counters are cumulative as the gateway
 * reports them.
 */

/**
 * `up`: traffic can flow (CHILD_SA installed, OpenVPN server serving, PAN-OS active).
 * `partial`: the control channel is up but no data SA (the seed's "established only").
 * `down`: configured but not established. `ignored`: configured to be ignored
 * (ipsec.conf auto=ignore). `unknown`: the gateway reported something we cannot map.
 */
export type TunnelState = 'up' | 'partial' | 'down' | 'unknown' | 'ignored';
export const TUNNEL_STATES: readonly TunnelState[] = ['up', 'partial', 'down', 'unknown', 'ignored'];

export type TunnelKind = 'site-to-site' | 'remote-access';

export interface GatewayInfo {
  vendor: 'strongswan' | 'openvpn' | 'paloalto';
  product: string;
  version?: string;
  hostname?: string;
  os?: string;
  model?: string;
  serial?: string;
  uptimeSeconds?: number;
}

export interface Traffic {
  bytesIn: number;
  bytesOut: number;
  packetsIn?: number;
  packetsOut?: number;
}

/** A configured tunnel: a strongSwan conn, an OpenVPN server instance, a PAN-OS IPsec tunnel. */
export interface Tunnel {
  name: string;
  kind: TunnelKind;
  state: TunnelState;
  /** The gateway's own word for the state (INSTALLED, inactiv, ...), for people. */
  detail?: string;
  localAddress?: string;
  remoteAddress?: string;
  /** Number of live SAs or sessions behind this tunnel (several road warriors count each). */
  activeSessions: number;
  /** Configured sub-tunnels (strongSwan children) with their own state. */
  children?: { name: string; state: TunnelState; installed: number }[];
  traffic?: Traffic;
}

/** One connected peer or user: an IKE_SA, an OpenVPN client. */
export interface Session {
  tunnel: string;
  /** The identity a person recognises: EAP/XAuth identity, remote IKE id, certificate CN. */
  user: string;
  /** Gateway-local unique id; never used as a metric label. */
  id: string;
  protocol?: string;
  state: string;
  remoteAddress?: string;
  remotePort?: number;
  virtualAddresses: string[];
  localTs?: string[];
  remoteTs?: string[];
  /** Seconds since the session was established. */
  connectedSeconds?: number;
  traffic: Traffic;
}

/**
 * A bypass or drop policy (strongSwan type=passthrough/drop, swanctl mode = pass|drop,
 * pfSense's generated `bypass` conn): configuration, not a tunnel, so never up or down.
 */
export interface Shunt {
  /** The configured conn it belongs to. */
  conn: string;
  /** The child (phase 2) that carries the policy; for stroke conns the conn name. */
  name: string;
  mode: 'pass' | 'drop';
  localTs: string[];
  remoteTs: string[];
  /** Whether the gateway reports the policy as installed; absent when it does not say. */
  installed?: boolean;
}

/**
 * A certificate the daemon holds. Unlike the rest of the snapshot, its times are absolute
 * (Unix seconds): an expiry is an event, exported as a *_timestamp_seconds like
 * blackbox_exporter's probe_ssl_earliest_cert_expiry.
 */
export interface Certificate {
  /** Subject CN, else the first subjectAltName, else the whole subject DN. */
  subject: string;
  /** Issuer CN, else the issuer DN. */
  issuer: string;
  role: 'ca' | 'end-entity';
  /** The daemon holds the private key (the certificate it authenticates with). */
  hasPrivateKey: boolean;
  notBeforeTimestamp?: number;
  notAfterTimestamp: number;
  serial?: string;
}

export interface Crl {
  /** Issuer CN, else the issuer DN. */
  issuer: string;
  thisUpdateTimestamp?: number;
  /** Absent when the CRL names no next update. */
  nextUpdateTimestamp?: number;
  revoked?: number;
}

export interface AddressPool {
  name: string;
  base?: string;
  size: number;
  online: number;
  offline: number;
}

export interface StrongswanChildSa {
  name: string;
  uniqueId: string;
  state: string;
  mode?: string;
  protocol?: string;
  encap?: boolean;
  traffic: Traffic;
  installSeconds?: number;
  rekeySeconds?: number;
  lifeSeconds?: number;
  localTs: string[];
  remoteTs: string[];
}

export interface StrongswanIkeSa {
  conn: string;
  uniqueId: string;
  version: number;
  state: string;
  localHost?: string;
  remoteHost?: string;
  remotePort?: number;
  localId?: string;
  remoteId?: string;
  /** EAP or XAuth identity when the peer authenticated as a user. */
  remoteUserId?: string;
  establishedSeconds?: number;
  rekeySeconds?: number;
  reauthSeconds?: number;
  virtualIps: string[];
  children: StrongswanChildSa[];
}

export interface StrongswanDetail {
  ikeSas: StrongswanIkeSa[];
  /** Daemon-wide counts from `stats` (VICI) or the statusall header (stroke). */
  stats?: {
    ikeSasTotal?: number;
    ikeSasHalfOpen?: number;
    workers?: { total: number; idle: number; active: Record<string, number> };
    queues?: Record<string, number>;
    scheduled?: number;
  };
}

export interface OpenvpnServerDetail {
  name: string;
  path: string;
  format: 'v1' | 'v2' | 'v3' | 'client';
  /** Seconds since OpenVPN last rewrote the status file. */
  ageSeconds?: number;
  clients: number;
  routes: number;
  maxBcastMcastQueueLength?: number;
  dcoEnabled?: boolean;
}

export interface PaloaltoTunnelDetail {
  id: number;
  name: string;
  state: string;
  monitor: string;
  localIp: string;
  peerIp: string;
  interface: string;
}

export interface PaloaltoDetail {
  tunnels: PaloaltoTunnelDetail[];
  totals: { configured?: number; ipsecConfigured?: number; ipsecShown?: number };
  haState?: string;
}

export interface GatewaySnapshot {
  info: GatewayInfo;
  tunnels: Tunnel[];
  sessions: Session[];
  pools: AddressPool[];
  /** Bypass/drop policies, kept apart from tunnels; absent when the vendor has none. */
  shunts?: Shunt[];
  /** Absent when not collected (the module turned it off, or the vendor cannot say). */
  certificates?: Certificate[];
  crls?: Crl[];
  strongswan?: StrongswanDetail;
  openvpn?: { servers: OpenvpnServerDetail[] };
  paloalto?: PaloaltoDetail;
}
