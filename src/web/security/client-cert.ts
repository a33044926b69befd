import { TLSSocket } from 'node:tls';
import { normalizeSan, type TlsSettings } from '../../config/web-tls.js';

/** The subject alternative names of a certificate as X509Certificate.subjectAltName spells them. */
export function parseSubjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  // Entries are "TYPE:value" joined by ", "; values with special characters are JSON strings.
  const entry = /(?:^|, )(DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of text.matchAll(entry)) {
    let value = m[2] as string;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    names.push(m[1] === 'IP Address' ? normalizeSan(value) : value);
  }
  return names;
}

/**
 * The per-request half of client_auth_type: undefined when the connection's client
 * certificate satisfies the configuration, otherwise the reason for a 403.
 *
 * node:tls fails the handshake only for RequireAndVerifyClientCert (rejectUnauthorized);
 * the other types accept any certificate, or none, at the handshake, and are decided
 * here: VerifyClientCertIfGiven rejects a certificate that was presented but does not
 * verify against the client CAs, and accepts no certificate at all.
 */
export function clientCertProblem(socket: unknown, tls: TlsSettings): string | undefined {
  if (!(socket instanceof TLSSocket)) return 'not a TLS connection';
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
  const cert = socket.getPeerX509Certificate();
  switch (tls.clientAuth) {
    case 'RequireAnyClientCert':
      if (!cert) return 'a client certificate is required';
      break;
    case 'VerifyClientCertIfGiven':
      if (cert && !socket.authorized) return `client certificate not accepted (${String(socket.authorizationError)})`;
      break;
    case 'RequireAndVerifyClientCert':
      if (!cert) return 'a client certificate is required';
      if (!socket.authorized) return `client certificate not accepted (${String(socket.authorizationError)})`;
      break;
  }
  if (tls.allowedSans) {
    const sans = parseSubjectAltNames(cert?.subjectAltName);
    if (!sans.some((s) => tls.allowedSans?.has(s))) return 'the client certificate has none of client_allowed_sans';
  }
  return undefined;
}
