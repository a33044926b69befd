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
 * `standby`: on an HA unit that does not carry traffic now (PAN-OS passive): its peer
 * carries the tunnel, so it is neither up nor down here and has no vpn_tunnel_up series.
 */
export type TunnelState = 'up' | 'partial' | 'down' | 'unknown' | 'ignored' | 'standby';
export const TUNNEL_STATES: readonly TunnelState[] = ['up', 'partial', 'down', 'unknown', 'ignored', 'standby'];

export type TunnelKind = 'site-to-site' | 'remote-access';

export interface GatewayInfo {
  vendor: 'strongswan' | 'openvpn' | 'paloalto' | 'wireguard';
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
  /**
   * Traffic of this session; absent when the gateway does not count it per session
   * (PAN-OS GlobalProtect users): then no vpn_user_*_bytes_total series, rather than zeros.
   */
  traffic?: Traffic;
  /**
   * Descriptive fields for people (a GlobalProtect user's computer and client OS): shown
   * in /sessions and the pages, never used as metric labels.
   */
  details?: Record<string, string>;
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
  /** What the management interface adds (openvpn-mgmt); absent for a status file. */
  management?: OpenvpnManagementDetail;
}

/** From OpenVPN's management interface: `state`, `load-stats` and `version`. */
export interface OpenvpnManagementDetail {
  /** The daemon's state word: CONNECTED, RECONNECTING, EXITING, ... */
  state: string;
  /** Unix time the daemon entered it (an event time, hence absolute). */
  stateSinceTimestamp: number;
  stateDescription?: string;
  /** `load-stats`: connected clients and the daemon's bytes on the network, all clients together. */
  clients?: number;
  bytesIn?: number;
  bytesOut?: number;
  version?: string;
  managementVersion?: number;
}

export interface PaloaltoTunnelDetail {
  id: number;
  name: string;
  /** PAN-OS's word: active, inactiv, init. */
  state: string;
  monitor: string;
  localIp: string;
  peerIp: string;
  interface: string;
}

/** A GlobalProtect user as the device lists it (addresses, computer and client are for people, not labels). */
export interface PaloaltoGpUserDetail {
  gateway: string;
  tunnelName?: string;
  username: string;
  primaryUsername?: string;
  computer?: string;
  client?: string;
  clientOs?: string;
  virtualIp?: string;
  publicIp?: string;
  tunnelType?: string;
  loginTime?: string;
  loginEpochSeconds?: number;
}

export interface PaloaltoGpGatewayDetail {
  name: string;
  /** Users connected now, from `statistics` (or counted from `current-user`). */
  currentUsers?: number;
  /** Users that were connected and have logged out (the device's "previous users"). */
  previousUsers?: number;
}

export interface PaloaltoIkeSaDetail {
  version: 1 | 2;
  gateway: string;
  peerAddress?: string;
  role?: string;
  mode?: string;
  algorithm?: string;
  state?: string;
}

export interface PaloaltoIpsecSaDetail {
  /** `tunnel` or `tunnel:proxy-id`, as `show vpn flow` names the same SA. */
  tunnel: string;
  gateway?: string;
  algorithm?: string;
  lifetimeSeconds?: number;
  lifetimeKilobytes?: number;
  remainingSeconds?: number;
}

export interface PaloaltoHaDetail {
  enabled: boolean;
  mode?: string;
  localState?: string;
  peerState?: string;
  peerConnection?: string;
}

export interface PaloaltoDetail {
  tunnels: PaloaltoTunnelDetail[];
  totals: { configured?: number; ipsecConfigured?: number; ipsecShown?: number };
  /** HA state shown in the CLI prompt. */
  haState?: string;
  /** From `show high-availability state`, when asked and answered. */
  ha?: PaloaltoHaDetail;
  /** From `show global-protect-gateway ...`; gateways empty on a unit without GlobalProtect. */
  globalProtect?: { gateways: PaloaltoGpGatewayDetail[]; users: PaloaltoGpUserDetail[]; totalPreviousUsers?: number };
  /** From `show vpn ike-sa` / `show vpn ipsec-sa`, when asked and answered. */
  ikeSas?: PaloaltoIkeSaDetail[];
  ipsecSas?: PaloaltoIpsecSaDetail[];
  /** Each optional command asked: true when it answered and was read, false when refused or unreadable. */
  commands: Record<string, boolean>;
}

export interface WireguardPeerDetail {
  /** Public key (base64): for the JSON and pages, never a label. */
  publicKey: string;
  /** The user name: from the module's peer_names, a config comment, or the key's first 8 characters. */
  name: string;
  nameSource: 'module' | 'config' | 'key';
  /** Unique per interface (name, with the short key added when two peers share a name): the `peer` label. */
  label: string;
  endpoint?: string;
  allowedIps: string[];
  /** Unix time of the latest handshake by the gateway's clock; undefined when there never was one. */
  latestHandshakeTimestamp?: number;
  handshakeAgeSeconds?: number;
  /** Handshake younger than the module's connected_within. */
  connected: boolean;
  persistentKeepaliveSeconds?: number;
  traffic: Traffic;
}

export interface WireguardInterfaceDetail {
  name: string;
  publicKey?: string;
  listenPort?: number;
  peers: WireguardPeerDetail[];
}

export interface WireguardDetail {
  interfaces: WireguardInterfaceDetail[];
  /** The module's connected_within, in seconds. */
  connectedWithinSeconds: number;
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
  wireguard?: WireguardDetail;
}
