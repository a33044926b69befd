// A small PKI for the strongSwan labs, made with openssl: a CA, a CRL it signed and the gateway's
// end-entity certificate (with its key) for the certificate-based conn site-b.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PKI_NAMES = {
  caCn: 'vpn-exporter Lab Root CA',
  gwCn: 'gw-cert.example',
  /** The SAN of the gateway certificate, its IKE identity. */
  gwSan: 'gw-cert.example',
  siteBCn: 'site-b.example',
} as const;

/** Days the end-entity certificate and the CRL are valid: far from the alerting windows (14 and 7 days). */
export const GW_CERT_DAYS = 30;
export const CRL_DAYS = 21;

export interface LabPki {
  dir: string;
  caCert: string;
  gwCert: string;
  gwKey: string;
  crl: string;
  /** What `openssl x509 -enddate` says of the gateway certificate, as Unix seconds. */
  gwNotAfter: number;
  caNotAfter: number;
  /** What `openssl crl -nextupdate` says, as Unix seconds. */
  crlNextUpdate: number;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** "notAfter=Jan  2 03:04:05 2027 GMT" → Unix seconds. */
function opensslTime(line: string): number {
  const text = line.trim().replace(/^[A-Za-z]+=/, '');
  const ms = Date.parse(text.replace(/ GMT$/, ' UTC'));
  if (!Number.isFinite(ms)) throw new Error(`cannot read openssl time ${JSON.stringify(line)}`);
  return ms / 1000;
}

export function makeLabPki(dir: string): LabPki {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ ca ]
default_ca = lab
[ lab ]
database = ${join(dir, 'index.txt')}
crlnumber = ${join(dir, 'crlnumber')}
certificate = ${join(dir, 'ca.crt')}
private_key = ${join(dir, 'ca.key')}
default_md = sha256
[ ee ]
subjectAltName = DNS:${PKI_NAMES.gwSan}
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
`,
  );
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      `/C=XX/O=vpn-exporter lab/CN=${PKI_NAMES.caCn}`,
      '-days',
      '3650',
      '-out',
      'ca.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'gw.key'], dir);
  openssl(['req', '-new', '-key', 'gw.key', '-subj', `/C=XX/O=vpn-exporter lab/CN=${PKI_NAMES.gwCn}`, '-out', 'gw.csr'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'gw.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '2',
      '-days',
      String(GW_CERT_DAYS),
      '-extfile',
      'ca.cnf',
      '-extensions',
      'ee',
      '-out',
      'gw.crt',
    ],
    dir,
  );
  openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-crldays', String(CRL_DAYS), '-out', 'ca.crl.pem'], dir);
  openssl(['crl', '-in', 'ca.crl.pem', '-outform', 'DER', '-out', 'ca.crl'], dir);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    gwCert: join(dir, 'gw.crt'),
    gwKey: join(dir, 'gw.key'),
    crl: join(dir, 'ca.crl'),
    gwNotAfter: opensslTime(openssl(['x509', '-in', 'gw.crt', '-noout', '-enddate'], dir)),
    caNotAfter: opensslTime(openssl(['x509', '-in', 'ca.crt', '-noout', '-enddate'], dir)),
    crlNextUpdate: opensslTime(openssl(['crl', '-in', 'ca.crl.pem', '-noout', '-nextupdate'], dir)),
  };
}
