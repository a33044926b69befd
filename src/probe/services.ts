import type { SshTransport } from '../transport/ssh/types.js';

/** Long-lived resources shared by every probe; created once at start-up. */
export interface Services {
  ssh: SshTransport;
}
