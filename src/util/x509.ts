import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList, type Name } from '@peculiar/asn1-x509';
import type { Certificate, Crl } from '../model/snapshot.js';

/*
 * DER certificates and CRLs → the model's Certificate and Crl. Certificates go through
 * node's own X509Certificate (OpenSSL); node has no CRL reader, so CRLs go through
 * @peculiar/asn1-x509's CertificateList schema rather than a hand-written ASN.1 reader.
 * Every function returns undefined for input it cannot decode: one odd certificate must
 * not hide the rest of a gateway.
 */

const CN_OID = '2.5.4.3';
/** Bound for label values taken from certificate names. */
const MAX_NAME = 256;

/** The last CN= of node's multi-line DN ("C=XX\nO=...\nCN=name"); escapes are not undone. */
function cnOfNodeDn(dn: string): string | undefined {
  const cns = dn
    .split('\n')
    .filter((l) => l.startsWith('CN='))
    .map((l) => l.slice(3));
  return cns[cns.length - 1];
}

function firstSan(san: string | undefined): string | undefined {
  const first = san?.split(', ')[0];
  return first?.replace(/^(DNS|IP Address|email|URI|DirName|othername):/, '') || undefined;
}

const clip = (s: string) => (s.length > MAX_NAME ? s.slice(0, MAX_NAME) : s);

function toSeconds(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

export function decodeCertificate(der: Buffer, held: { hasPrivateKey: boolean; ca?: boolean }): Certificate | undefined {
  let x: X509Certificate;
  try {
    x = new X509Certificate(der);
  } catch {
    return undefined;
  }
  const notAfter = toSeconds(x.validTo);
  if (notAfter === undefined) return undefined;
  const subject = cnOfNodeDn(x.subject) ?? firstSan(x.subjectAltName) ?? x.subject.replaceAll('\n', ', ');
  const issuer = cnOfNodeDn(x.issuer) ?? x.issuer.replaceAll('\n', ', ');
  const notBefore = toSeconds(x.validFrom);
  return {
    subject: clip(subject),
    issuer: clip(issuer),
    role: (held.ca ?? x.ca) ? 'ca' : 'end-entity',
    hasPrivateKey: held.hasPrivateKey,
    ...(notBefore !== undefined ? { notBeforeTimestamp: notBefore } : {}),
    notAfterTimestamp: notAfter,
    serial: x.serialNumber,
  };
}

function cnOfName(name: Name): string | undefined {
  let cn: string | undefined;
  for (const rdn of name) for (const atv of rdn) if (atv.type === CN_OID) cn = atv.value.toString();
  return cn;
}

function nameText(name: Name): string {
  return name.map((rdn) => rdn.map((atv) => `${atv.type}=${atv.value.toString()}`).join('+')).join(', ');
}

export function decodeCrl(der: Buffer): Crl | undefined {
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(der, CertificateList);
  } catch {
    return undefined;
  }
  const tbs = crl.tbsCertList;
  const issuer = cnOfName(tbs.issuer) ?? nameText(tbs.issuer);
  const thisUpdate = tbs.thisUpdate.getTime().getTime();
  const nextUpdate = tbs.nextUpdate?.getTime().getTime();
  return {
    issuer: clip(issuer),
    ...(Number.isFinite(thisUpdate) ? { thisUpdateTimestamp: Math.floor(thisUpdate / 1000) } : {}),
    ...(nextUpdate !== undefined && Number.isFinite(nextUpdate) ? { nextUpdateTimestamp: Math.floor(nextUpdate / 1000) } : {}),
    revoked: tbs.revokedCertificates?.length ?? 0,
  };
}
