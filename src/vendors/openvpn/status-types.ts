/** How the status text was laid out; `client` is the client-mode STATISTICS file. */
export type OpenvpnStatusFormat = 'v1' | 'v2' | 'v3' | 'client';

export interface OpenvpnRealAddress {
  /** Host part without brackets or protocol prefix (IPv4, IPv6 or whatever OpenVPN printed). */
  address?: string;
  port?: number;
  /** The 2.7 prefix (`udp4`, `tcp4-server`, ...); absent before 2.7. */
  protocol?: string;
}

export interface OpenvpnClient extends OpenvpnRealAddress {
  commonName: string;
  virtualAddress?: string;
  virtualIpv6Address?: string;
  bytesReceived: number;
  bytesSent: number;
  /** Epoch seconds. */
  connectedSince?: number;
  /** Absent when OpenVPN printed UNDEF (no username/password authentication). */
  username?: string;
  clientId?: number;
  peerId?: number;
  cipher?: string;
}

export interface OpenvpnRoute extends OpenvpnRealAddress {
  /** An IPv4/IPv6 address or subnet (iroute), or a MAC address in tap mode. */
  virtualAddress: string;
  commonName: string;
  /** Epoch seconds. */
  lastRef?: number;
}

export interface OpenvpnGlobalStats {
  maxBcastMcastQueueLength?: number;
  dcoEnabled?: boolean;
  /** Stats this parser does not know yet, verbatim. */
  other: Record<string, string>;
}

export interface OpenvpnServerStatus {
  format: 'v1' | 'v2' | 'v3';
  /** The TITLE line (v2/v3 only), e.g. `OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] ...`. */
  title?: string;
  /** Version number taken from the title, e.g. `2.6.14`. */
  version?: string;
  /** When OpenVPN wrote the file, epoch seconds. */
  updated?: number;
  clients: OpenvpnClient[];
  routes: OpenvpnRoute[];
  globalStats: OpenvpnGlobalStats;
}

export interface OpenvpnClientStatistics {
  format: 'client';
  updated?: number;
  /** Every `label,number` row, keyed by the label as printed (`TCP/UDP read bytes`, ...). */
  counters: Record<string, number>;
  tunTapReadBytes?: number;
  tunTapWriteBytes?: number;
  tcpUdpReadBytes?: number;
  tcpUdpWriteBytes?: number;
}

export type OpenvpnStatus = OpenvpnServerStatus | OpenvpnClientStatistics;

export interface OpenvpnStatusLimits {
  maxLines: number;
  maxLineLength: number;
}
