import type { Traffic } from '../../model/snapshot.js';

export interface IpsecAuth {
  /** The configured identity in brackets, when one is set. */
  id?: string;
  /** What follows "uses", e.g. `pre-shared key authentication`, `XAuth authentication: any`. */
  uses: string;
}

export interface IpsecConnection {
  name: string;
  localAddresses: string;
  remoteAddresses: string;
  /** `IKEv1`, `IKEv2` or `IKEv1/2` (keyexchange=ike). */
  ikeVersion: string;
  aggressive: boolean;
  dpdDelaySeconds?: number;
  localAuth: IpsecAuth[];
  remoteAuth: IpsecAuth[];
  children: { name: string; localTs: string[]; remoteTs: string[]; mode: string; dpdAction?: string }[];
}

export interface IpsecChildSa {
  name: string;
  uniqueId: string;
  /** INSTALLED, REKEYING, REKEYED, ROUTED, ... */
  state: string;
  mode: string;
  /** Not printed by 5.0 to 5.2. */
  reqid?: number;
  /** ESP or AH; only printed while INSTALLED. */
  protocol?: string;
  encap?: boolean;
  spiIn?: string;
  spiOut?: string;
  proposal?: string;
  /** Only in `statusall` output and only while INSTALLED. */
  traffic?: Traffic;
  lastInSeconds?: number;
  lastOutSeconds?: number;
  rekeySeconds?: number;
  /** True when the rekey time has passed and a rekey is under way ("rekeying active"). */
  rekeyActive?: boolean;
  /** REKEYING/REKEYED SAs print when they expire instead of traffic. */
  expiresSeconds?: number;
  localTs: string[];
  remoteTs: string[];
}

export interface IpsecIkeSa {
  conn: string;
  uniqueId: string;
  /** CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, ... */
  state: string;
  /** From the SPI line, so only with statusall. */
  version?: number;
  /** This side started the IKE_SA (the `*` sits on the initiator SPI). */
  initiator?: boolean;
  localHost?: string;
  localId?: string;
  remoteHost?: string;
  remoteId?: string;
  /** EAP (IKEv2) or XAuth (IKEv1) identity, printed by statusall when it differs from the IKE id. */
  remoteUserId?: string;
  remoteUserIdKind?: 'EAP' | 'XAuth';
  establishedSeconds?: number;
  rekeySeconds?: number;
  reauthSeconds?: number;
  proposal?: string;
  /** stroke never prints per-SA virtual IPs; they show as the child's remote TS. Kept for the snapshot's shape. */
  virtualIps: string[];
  children: IpsecChildSa[];
}

export interface IpsecStatus {
  /** Only `statusall` has the daemon header. */
  daemon?: {
    /** `strongSwan 5.9.8` (or `weakSwan` when aggressive-mode PSK is allowed). */
    product: string;
    version: string;
    system?: string;
    machine?: string;
    uptimeSeconds?: number;
    /** Start time as printed, the gateway's local time without zone. */
    since?: string;
  };
  workers?: { total: number; idle: number; active: Record<string, number> };
  queues?: Record<string, number>;
  scheduled?: number;
  /** From an `IKE_SAs:` line if present, else from the Security Associations header (up + connecting). */
  ikeSasTotal?: number;
  ikeSasHalfOpen?: number;
  plugins: string[];
  pools: { name: string; size: number; online: number; offline: number }[];
  listeningAddresses: string[];
  connections: IpsecConnection[];
  shunted: { name: string; localTs: string[]; remoteTs: string[]; mode: string }[];
  routed: IpsecChildSa[];
  /** Daemon-wide counts, printed even when a name filter matched nothing. */
  sasUp: number;
  sasConnecting: number;
  ikeSas: IpsecIkeSa[];
  /** `ipsec status NAME` matched neither an IKE_SA nor a CHILD_SA name. */
  noMatch: boolean;
}
