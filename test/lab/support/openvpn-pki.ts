// A throwaway certificate authority for the OpenVPN lab: EC keys, made with openssl in well under a second.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './netns.js';

export interface Credential {
  cert: string;
  key: string;
}

export interface Pki {
  ca: string;
  server: Credential;
  /** One certificate per common name; several clients may share one (duplicate-cn). */
  clients: ReadonlyMap<string, Credential>;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes a CA, a server certificate and one client certificate per common name into `dir`. */
export async function makePki(dir: string, commonNames: readonly string[]): Promise<Pki> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', ca, '-subj', '/CN=vpnx-lab-ca', '-days', '2']);
  // remote-cert-tls on either side checks these extended key usages, so a mix-up fails the handshake.
  const issue = async (cn: string, usage: 'serverAuth' | 'clientAuth'): Promise<Credential> => {
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
      '2',
      '-extfile',
      `${base}.ext`,
      '-out',
      `${base}.crt`,
    ]);
    return { cert: `${base}.crt`, key: `${base}.key` };
  };
  // -CAcreateserial writes one serial file, so issuing stays sequential.
  const server = await issue('vpnx-server', 'serverAuth');
  const clients = new Map<string, Credential>();
  for (const cn of new Set(commonNames)) clients.set(cn, await issue(cn, 'clientAuth'));
  return { ca, server, clients };
}
