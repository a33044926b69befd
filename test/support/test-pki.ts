/**
 * A throwaway PKI made with the openssl command line: two CAs, a server certificate for
 * 127.0.0.1 and localhost, and client certificates. EC P-256 keys: quick to make.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA that signs the server and the trusted clients. */
  ca: CertPair;
  server: CertPair;
  /** Signed by `ca`, SAN DNS:prometheus.example. */
  client: CertPair;
  /** Signed by `ca`, SAN DNS:intruder.example. */
  otherSanClient: CertPair;
  /** A second CA, unknown to the exporter, and a client it signed (SAN DNS:prometheus.example). */
  otherCa: CertPair;
  otherCaClient: CertPair;
  /** A server certificate for 127.0.0.1 signed by `otherCa`: a certificate to rotate to. */
  otherCaServer: CertPair;
}

const CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 20_000 });
}

async function makeCa(dir: string, name: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-config',
    join(dir, 'openssl.cnf'),
    '-extensions',
    'ca_ext',
  ]);
  return pair;
}

async function makeLeaf(dir: string, name: string, ca: CertPair, usage: 'serverAuth' | 'clientAuth', san: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    `[leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = ${usage}\nsubjectAltName = ${san}\nauthorityKeyIdentifier = keyid\n`,
  );
  await openssl(dir, [
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    pair.key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
    '-config',
    join(dir, 'openssl.cnf'),
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    String(Date.now()),
    '-days',
    '2',
    '-out',
    pair.cert,
    '-extfile',
    ext,
    '-extensions',
    'leaf',
  ]);
  return pair;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  writeFileSync(join(dir, 'openssl.cnf'), CNF);
  const [ca, otherCa] = await Promise.all([makeCa(dir, 'test-ca'), makeCa(dir, 'other-ca')]);
  const [server, client, otherSanClient, otherCaClient, otherCaServer] = await Promise.all([
    makeLeaf(dir, 'server', ca, 'serverAuth', 'IP:127.0.0.1, DNS:localhost'),
    makeLeaf(dir, 'client', ca, 'clientAuth', 'DNS:prometheus.example'),
    makeLeaf(dir, 'other-san-client', ca, 'clientAuth', 'DNS:intruder.example'),
    makeLeaf(dir, 'other-ca-client', otherCa, 'clientAuth', 'DNS:prometheus.example'),
    makeLeaf(dir, 'other-ca-server', otherCa, 'serverAuth', 'IP:127.0.0.1, DNS:localhost'),
  ]);
  return { dir, ca, server, client, otherSanClient, otherCa, otherCaClient, otherCaServer };
}
