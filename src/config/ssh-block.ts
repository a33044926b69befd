import { z } from 'zod';
import { secretSchema } from './secret.js';
import type { SshEndpoint } from '../transport/ssh/types.js';

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** Who we log in as and how we know the host is the host: shared by the target and a jump host. */
const loginShape = {
  username: z.string().min(1).max(64),
  password: secretSchema.optional(),
  private_key: secretSchema.optional(),
  passphrase: secretSchema.optional(),
  known_hosts: z.string().min(1).optional(),
  host_key_fingerprints: z.array(z.string().regex(FINGERPRINT, 'expected SHA256:<base64> as ssh-keygen -lf prints it')).min(1).optional(),
  insecure_skip_host_key_verify: z.boolean().default(false),
};

type Login = z.output<z.ZodObject<typeof loginShape>>;

function checkLogin(login: Login, ctx: z.RefinementCtx): void {
  if (!login.password && !login.private_key) {
    ctx.addIssue({ code: 'custom', message: 'give password or private_key (or both)' });
  }
  if (login.passphrase && !login.private_key) {
    ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'passphrase without private_key' });
  }
  if (!login.known_hosts && !login.host_key_fingerprints && !login.insecure_skip_host_key_verify) {
    ctx.addIssue({
      code: 'custom',
      message: 'host keys are verified: give known_hosts or host_key_fingerprints (or, knowingly, insecure_skip_host_key_verify: true)',
    });
  }
}

const jumpSchema = z
  .strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535).default(22), ...loginShape })
  .superRefine(checkLogin);

export const sshOptionsSchema = z.strictObject({ ...loginShape, jump: jumpSchema.optional() }).superRefine(checkLogin);

export type SshOptions = z.output<typeof sshOptionsSchema>;

function endpointOf(host: string, port: number, login: Login): SshEndpoint {
  return {
    host,
    port,
    credentials: {
      username: login.username,
      password: login.password?.reveal(),
      privateKey: login.private_key?.reveal(),
      passphrase: login.passphrase?.reveal(),
    },
    hostKey: {
      knownHostsFile: login.known_hosts,
      fingerprints: login.host_key_fingerprints,
      insecureSkipVerify: login.insecure_skip_host_key_verify,
    },
  };
}

/** The endpoint for a probe: secrets revealed only here, on their way into the SSH transport. */
export function sshEndpoint(target: { host: string; port: number }, ssh: SshOptions): SshEndpoint {
  const endpoint = endpointOf(target.host, target.port, ssh);
  if (ssh.jump) endpoint.jump = endpointOf(ssh.jump.host, ssh.jump.port, ssh.jump);
  return endpoint;
}

/** Bound on everything a gateway sends back over SSH for one probe (default 16 MiB). */
export const maxOutputBytesSchema = z
  .number()
  .int()
  .min(4096)
  .max(256 << 20)
  .default(16 << 20);

/** `sudo -n` style prefix for hosts where status needs root; one word list, no shell syntax. */
export const commandPrefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9_./ -]*$/, 'letters, digits, spaces and _ . / - only')
  .max(64)
  .default('');

/**
 * With host keys verified, credentials never reach a host we do not know. Without,
 * anyone who can call /probe could point the module at their own SSH server and
 * collect its password: such a module must list its targets.
 */
function sshRequiresAllowList(options: { ssh: SshOptions }): string | undefined {
  const skips = options.ssh.insecure_skip_host_key_verify || options.ssh.jump?.insecure_skip_host_key_verify;
  return skips ? 'the module skips host key verification' : undefined;
}

/** What every prober that logs in over SSH declares alike: port 22, `ssh:` credentials (auths fit), the allow-list rule. */
export const SSH_PROBER = { defaultPort: 22, credentials: 'ssh', requiresAllowList: sshRequiresAllowList } as const;

/** `command_prefix` as the start of a remote command line: "" or the words and one space. */
export function commandPrefix(prefix: string): string {
  return prefix ? `${prefix} ` : '';
}

/** A unix socket on the gateway, reached by stream-local forwarding (a sun_path holds 107 bytes). */
export const unixSocketPathSchema = z.string().regex(/^\/[A-Za-z0-9_./-]{1,106}$/, 'an absolute path of letters, digits and _ . / -');

/**
 * Instead of forwarding to a socket, run this and speak over its stdin/stdout: for accounts
 * that may not open the socket, or servers that forbid stream-local forwarding. Plain words
 * only, like command_prefix: it reaches the gateway's shell as written.
 */
export const socketCommandSchema = z
  .string()
  .regex(/^[A-Za-z0-9_./:=,@%+-]+( [A-Za-z0-9_./:=,@%+-]+)*$/, 'words of letters, digits and _ . / : = , @ % + - separated by single spaces')
  .max(256);
