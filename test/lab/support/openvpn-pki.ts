// A throwaway certificate authority for the OpenVPN lab: EC keys, made with openssl in well under a second.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './netns.js';

export interface Credential {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: string;
  server: Credential;
  /** One certificate per common name; several clients may share one (duplicate-cn). */
  clients: ReadonlyMap<string, Credential>;
  /** A CRL the CA signed (PEM, nothing revoked), for crl-verify. */
  crl: string;
  /** OpenVPN static keys for tls-auth and tls-crypt. */
  tlsAuthKey: string;
  tlsCryptKey: string;
}

/** Days the server certificate and the CRL are valid: distinct, and far from the alerting windows (14 and 7 days). */
export const SERVER_CERT_DAYS = 30;
export const CRL_DAYS = 21;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes a CA, a server certificate and one client certificate per common name into `dir`. */
export async function makePki(dir: string, commonNames: readonly string[]): Promise<Pki> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', ca, '-subj', '/CN=vpnx-lab-ca', '-days', '3650']);
  // remote-cert-tls on either side checks these extended key usages, so a mix-up fails the handshake.
  const issue = async (cn: string, usage: 'serverAuth' | 'clientAuth', days = 2): Promise<Credential> => {
    const base = join(dir, cn);
    writeFileSync(`${base}.ext`, `extendedKeyUsage=${usage}\nkeyUsage=digitalSignature\n`);
    await run('openssl', ['req', '-new', ...EC_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      String(days),
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ]);
    return { cert: `${base}.crt`, key: `${base}.key` };
  };
  // -CAcreateserial writes one serial file, so issuing stays sequential.
  const server = await issue('vpnx-server', 'serverAuth', SERVER_CERT_DAYS);
  const clients = new Map<string, Credential>();
  for (const cn of new Set(commonNames)) clients.set(cn, await issue(cn, 'clientAuth'));
  // `openssl ca -gencrl` wants its database; nothing is revoked.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ ca ]\ndefault_ca = lab\n[ lab ]\ndatabase = ${join(dir, 'index.txt')}\ncrlnumber = ${join(dir, 'crlnumber')}\ncertificate = ${ca}\nprivate_key = ${caKey}\ndefault_md = sha256\n`,
  );
  const crl = join(dir, 'crl.pem');
  await run('openssl', ['ca', '-config', join(dir, 'ca.cnf'), '-gencrl', '-crldays', String(CRL_DAYS), '-out', crl]);
  const tlsAuthKey = join(dir, 'ta.key');
  const tlsCryptKey = join(dir, 'tc.key');
  await run('openvpn', ['--genkey', 'secret', tlsAuthKey]);
  await run('openvpn', ['--genkey', 'secret', tlsCryptKey]);
  return { dir, ca, server, clients, crl, tlsAuthKey, tlsCryptKey };
}
