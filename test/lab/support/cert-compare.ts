// What the daemon itself says of its certificates and CRLs: `swanctl --list-certs --utc` and
// `ipsec listcerts/listcacerts/listcrls --utc` print the same blocks. Read here with a few regular
// expressions of its own, independently of the exporter's parser.
import assert from 'node:assert/strict';
import { matching } from '../../support/exposition.js';
import { PKI_NAMES, type LabPki } from './strongswan-pki.js';

export interface ListedCert {
  subjectCn: string;
  notAfter: number;
  hasPrivateKey: boolean;
  ca: boolean;
}

function utc(text: string): number {
  // "Jan 01 03:40:28 UTC 2027"
  const ms = Date.parse(text.replace(/^(\w{3}) (\d+) (\S+) UTC (\d{4})$/, '$1 $2 $4 $3 UTC'));
  assert.ok(Number.isFinite(ms), `cannot read the time ${JSON.stringify(text)}`);
  return ms / 1000;
}

export function listedCerts(text: string): { certs: ListedCert[]; crlNext: Map<string, number> } {
  const certs: ListedCert[] = [];
  const crlNext = new Map<string, number>();
  let ca = false;
  for (const block of text.split(/\n(?= {2}subject:| {2}issuer: .*\n {2}update)|\n(?=List of )/)) {
    if (/^List of /.test(block)) ca = /CA Certificates/.test(block);
    const subject = /^ {2}subject:\s+"(?:.*, )?CN=([^"]+)"/m.exec(block);
    const notAfter = /not after\s+(\w{3} \d+ [\d:]+ UTC \d{4})/.exec(block);
    if (subject && notAfter) {
      certs.push({ subjectCn: subject[1] ?? '', notAfter: utc(notAfter[1] ?? ''), hasPrivateKey: /has private key/.test(block), ca });
    }
    const crl = /^ {2}issuer:\s+"(?:.*, )?CN=([^"]+)"\n {2}update:.*\n\s+next on (\w{3} \d+ [\d:]+ UTC \d{4})/m.exec(block);
    if (crl) crlNext.set(crl[1] ?? '', utc(crl[2] ?? ''));
  }
  return { certs, crlNext };
}

/**
 * The exported certificate and CRL series against the daemon's own listing and against openssl's view of
 * the files the lab made: the gateway's end-entity certificate (with its key), the CA, the CRL.
 */
export function assertCertificates(text: string, listing: string, pki: LabPki): void {
  const { certs, crlNext } = listedCerts(listing);
  const byCn = new Map(certs.map((c) => [c.subjectCn, c]));
  assert.equal(byCn.get(PKI_NAMES.gwCn)?.notAfter, pki.gwNotAfter, `the daemon's gateway certificate expires when openssl -enddate says:\n${listing}`);
  assert.equal(byCn.get(PKI_NAMES.caCn)?.notAfter, pki.caNotAfter, `the daemon's CA expires when openssl -enddate says:\n${listing}`);
  assert.equal(crlNext.get(PKI_NAMES.caCn), pki.crlNextUpdate, `the daemon's CRL is due when openssl -nextupdate says:\n${listing}`);

  const exported = matching(text, 'vpn_certificate_expiry_timestamp_seconds', {});
  assert.equal(exported.length, certs.length, `one series per certificate the daemon lists:\n${text}`);
  for (const c of certs) {
    const series = matching(text, 'vpn_certificate_expiry_timestamp_seconds', { subject: c.subjectCn });
    assert.equal(series.length, 1, `${c.subjectCn}:\n${text}`);
    const s = series[0]!;
    assert.equal(s.value, c.notAfter, `expiry of ${c.subjectCn}`);
    assert.equal(s.labels.role, c.ca ? 'ca' : 'end-entity', `role of ${c.subjectCn}`);
    assert.equal(s.labels.private_key, String(c.hasPrivateKey), `private_key of ${c.subjectCn}`);
    assert.equal(s.labels.issuer, PKI_NAMES.caCn, `issuer of ${c.subjectCn}`);
  }
  assert.deepEqual(
    matching(text, 'vpn_crl_next_update_timestamp_seconds', {}).map((s) => [s.labels.issuer, s.value]),
    [[PKI_NAMES.caCn, pki.crlNextUpdate]],
  );
}
