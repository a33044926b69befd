import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import { abortReason, onAbort } from '../../util/abort.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { errorMessage, ProbeError, ProtocolError, SizeLimitError } from '../../util/errors.js';
import type { HttpsClient, HttpsEndpoint, HttpsRequest, HttpsResponse, HttpsTransport, RequestOptions, TlsPolicy } from './types.js';

/** Connections kept per client; a probe uses one at a time, probes of one target share them. */
const MAX_SOCKETS_PER_CLIENT = 4;
/** Idle kept-alive connections are closed after this (sooner when the server's Keep-Alive header says so). */
const IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_CLIENTS = 1024;

/** OpenSSL's and Node's codes for a certificate that does not verify: the server is not who it claims. */
const CERT_CODES =
  /^(?:UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_DECRYPT_CERT|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/** The server's certificate is not the one pinned or not trusted: classed like a wrong SSH host key. */
function certificateError(ep: HttpsEndpoint, detail: string, cause?: unknown): ProbeError {
  return new ProbeError(`TLS certificate of ${ep.host}:${ep.port} rejected: ${detail}`, { kind: 'host_key_mismatch', cause });
}

/** A socket error as the probe's failure: certificate problems, TLS garbage, the rest with its errno kept as cause. */
function requestError(ep: HttpsEndpoint, err: unknown): ProbeError {
  if (err instanceof ProbeError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CERT_CODES.test(code)) return certificateError(ep, `${errorMessage(err)} (${code})`, err);
  if (typeof code === 'string' && /^ERR_SSL_|^ERR_TLS_|^HPE_/.test(code)) {
    return new ProtocolError(`https://${ep.host}:${ep.port}: not a TLS/HTTP answer: ${errorMessage(err)}`, { cause: err });
  }
  return new ProbeError(`https://${ep.host}:${ep.port}: ${errorMessage(err)}`, { cause: err });
}

/** `AB:CD:...` or `abcd...` as upper-case hex without colons. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase();
}

/** Request options this module adds for its own createConnection; Node's agent passes them through. */
interface ConnectionExtras {
  probeSignal?: AbortSignal;
}

type OnCreate = (err: Error | null, socket?: tls.TLSSocket) => void;

/**
 * An agent whose connections are handed to HTTP only once the TLS handshake is done and the
 * certificate checked (the CA chain by OpenSSL, a pinned fingerprint here): no byte of a
 * request, and so no API key header, is written to a server that has not proven itself.
 * A handshake that hangs ends with the probe's signal, passed along in the request options.
 */
function makeAgent(ep: HttpsEndpoint): https.Agent {
  const policy = ep.tls;
  const pins = (policy.fingerprints ?? []).map(normalizeFingerprint);
  let ca: Buffer | undefined;
  if (policy.caFile) {
    try {
      ca = readFileSync(policy.caFile);
    } catch (err) {
      throw new ProbeError(`cannot read tls_config.ca_file ${policy.caFile}: ${errorMessage(err)}`, { cause: err });
    }
  }
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_CLIENT,
    maxFreeSockets: MAX_SOCKETS_PER_CLIENT,
    timeout: IDLE_TIMEOUT_MS,
    scheduling: 'lifo',
    // Pinning replaces chain and name checks; `insecure` drops every check.
    rejectUnauthorized: pins.length === 0 && !policy.insecureSkipVerify,
    maxCachedSessions: 0,
    ...(ca ? { ca } : {}),
    ...(policy.serverName ? { servername: policy.serverName } : {}),
  });
  (agent as unknown as { createConnection: (o: tls.ConnectionOptions & ConnectionExtras, cb: OnCreate) => undefined }).createConnection = (
    options,
    oncreate,
  ) => {
    let done = false;
    const finish = (err: Error | null, socket?: tls.TLSSocket) => {
      if (done) return;
      done = true;
      disposeAbort();
      if (err) socket?.destroy();
      oncreate(err, err ? undefined : socket);
    };
    const socket = tls.connect(options);
    const disposeAbort = options.probeSignal ? onAbort(options.probeSignal, (reason) => finish(reason, socket)) : () => {};
    socket.once('secureConnect', () => {
      if (pins.length > 0) {
        const fp = socket.getPeerCertificate().fingerprint256;
        const got = fp ? normalizeFingerprint(fp) : '';
        if (!pins.includes(got)) {
          finish(certificateError(ep, `certificate fingerprint mismatch (SHA-256 ${fp ?? 'none'} is not pinned)`), socket);
          return;
        }
      }
      finish(null, socket);
    });
    socket.once('error', (err) => finish(requestError(ep, err), socket));
    socket.once('close', () =>
      finish(new ProbeError(`https://${ep.host}:${ep.port}: connection closed during the TLS handshake`, { kind: 'connection_lost' }), socket),
    );
    return undefined;
  };
  return agent;
}

function policyKey(p: TlsPolicy): string {
  return JSON.stringify([p.caFile ?? '', (p.fingerprints ?? []).map(normalizeFingerprint).sort(), p.serverName ?? '', p.insecureSkipVerify]);
}

class Client implements HttpsClient {
  readonly memo = new Map<string, unknown>();
  constructor(
    private readonly ep: HttpsEndpoint,
    readonly agent: https.Agent,
  ) {}

  async request(req: HttpsRequest, opts: RequestOptions): Promise<HttpsResponse> {
    if (this.ep.tls.insecureSkipVerify) {
      opts.log.warn('TLS certificate not verified (insecure_skip_verify)', { host: this.ep.host, port: this.ep.port });
    }
    try {
      return await this.once(req, opts);
    } catch (err) {
      // A kept-alive connection the server closed just as it was reused: the request never
      // reached it, so asking again on a new connection is safe (Node's documented remedy).
      if (err instanceof StaleSocketError && !opts.signal.aborted) {
        opts.log.debug('kept-alive connection closed by the server; asking again on a new one');
        return await this.once(req, opts);
      }
      throw err;
    }
  }

  private once(req: HttpsRequest, opts: RequestOptions): Promise<HttpsResponse> {
    const { signal, maxResponseBytes, log } = opts;
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const ep = this.ep;
    const started = performance.now();
    return new Promise<HttpsResponse>((resolve, reject) => {
      let settled = false;
      const body = new BoundedBuffer(maxResponseBytes, `response of https://${ep.host}:${ep.port}`);
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const options: https.RequestOptions & ConnectionExtras = {
        host: ep.host,
        port: ep.port,
        method: req.method,
        path: req.path,
        headers,
        agent: this.agent,
        probeSignal: signal,
      };
      const r = https.request(options);
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        dispose();
        r.destroy();
        reject(err);
      };
      const dispose = onAbort(signal, (reason) => fail(reason));
      r.on('error', (err) => {
        const code = (err as { code?: unknown }).code;
        if (r.reusedSocket && code === 'ECONNRESET' && !settled) {
          settled = true;
          dispose();
          reject(new StaleSocketError(errorMessage(err)));
          return;
        }
        fail(requestError(ep, err));
      });
      r.on('response', (res: IncomingMessage) => {
        const length = Number(res.headers['content-length']);
        if (Number.isFinite(length) && length > maxResponseBytes) {
          fail(new SizeLimitError(`response of https://${ep.host}:${ep.port} announces ${length} bytes, over the limit of ${maxResponseBytes}`));
          return;
        }
        res.on('data', (chunk: Buffer) => {
          try {
            body.push(chunk);
          } catch (err) {
            fail(err);
          }
        });
        res.on('error', (err) => fail(requestError(ep, err)));
        res.on('aborted', () =>
          fail(new ProbeError(`https://${ep.host}:${ep.port}: connection closed in the middle of the answer`, { kind: 'connection_lost' })),
        );
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) {
            fail(new ProbeError(`https://${ep.host}:${ep.port}: connection closed in the middle of the answer`, { kind: 'connection_lost' }));
            return;
          }
          settled = true;
          dispose();
          log.debug('https answer', {
            method: req.method,
            status: res.statusCode,
            bytes: body.length,
            ms: Math.round(performance.now() - started),
            reused: r.reusedSocket,
          });
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: body.toString('utf8') });
        });
      });
      r.end(req.body);
    });
  }
}

/** A reused connection was reset before any answer. */
class StaleSocketError extends ProbeError {
  override readonly name = 'StaleSocketError';
}

/**
 * HTTPS clients kept per endpoint, TLS policy and identity, so a warm probe reuses its
 * TLS connection; at most `maxClients`, the least recently used evicted with its sockets.
 */
export function createHttpsTransport(opts: { maxClients?: number } = {}): HttpsTransport {
  const clients = new Map<string, Client>();
  const max = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  return {
    client(ep: HttpsEndpoint): HttpsClient {
      const key = JSON.stringify([ep.host, ep.port, policyKey(ep.tls), ep.identity]);
      let c = clients.get(key);
      if (c) {
        clients.delete(key);
        clients.set(key, c);
        return c;
      }
      c = new Client(ep, makeAgent(ep));
      clients.set(key, c);
      while (clients.size > max) {
        const oldest = clients.keys().next().value as string;
        clients.get(oldest)?.agent.destroy();
        clients.delete(oldest);
      }
      return c;
    },
    sockets(): number {
      let n = 0;
      for (const c of clients.values()) {
        for (const list of [...Object.values(c.agent.sockets), ...Object.values(c.agent.freeSockets)]) n += list?.length ?? 0;
      }
      return n;
    },
    async close(): Promise<void> {
      for (const c of clients.values()) c.agent.destroy();
      clients.clear();
    },
  };
}
