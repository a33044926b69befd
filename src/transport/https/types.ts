import type { ProbeLog } from '../../log/probe-log.js';

/** How the server's certificate is checked. Verified by default against the system's or `caFile`'s CAs. */
export interface TlsPolicy {
  /** PEM CA bundle to verify against instead of the system's CAs. */
  caFile?: string;
  /**
   * Pinned SHA-256 fingerprints of the server's own (leaf) certificate, upper-case hex without
   * colons. When set, the certificate must be one of these and the CA chain and name are not
   * checked: a firewall's self-signed certificate is pinned, not trusted.
   */
  fingerprints?: string[];
  /** The name the certificate must carry, when it is not the target's host. */
  serverName?: string;
  /** Accept any certificate; logged on every request. */
  insecureSkipVerify: boolean;
}

export interface HttpsEndpoint {
  host: string;
  port: number;
  tls: TlsPolicy;
  /**
   * Who is asking, as an opaque digest of the credentials (never a secret): connections and
   * the client's memo are kept per endpoint and identity, so two accounts never share them.
   */
  identity: string;
}

export interface HttpsRequest {
  method: 'GET' | 'POST';
  /** Path and query string, e.g. `/api/?type=op&cmd=...`. Never carries a secret. */
  path: string;
  /** Header values may be secrets: they are never logged. */
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpsResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface RequestOptions {
  /** Covers the whole request: connect, TLS, sending and reading the answer. */
  signal: AbortSignal;
  /** Bound on the answer's body; past it the connection is closed and the request fails. */
  maxResponseBytes: number;
  log: ProbeLog;
}

/** One endpoint and identity: its kept-alive connections and a memo for its user. */
export interface HttpsClient {
  request(req: HttpsRequest, opts: RequestOptions): Promise<HttpsResponse>;
  /**
   * What the caller wants kept as long as the connections (a session key generated from a
   * password); dropped with them when the client is evicted.
   */
  readonly memo: Map<string, unknown>;
}

export interface HttpsTransport {
  client(endpoint: HttpsEndpoint): HttpsClient;
  /** Open sockets across all clients (in use and idle), for the exporter's own metrics and tests. */
  sockets(): number;
  close(): Promise<void>;
}
