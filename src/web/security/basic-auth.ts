import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import pLimit from 'p-limit';
import { TtlCache } from '../../util/ttl-cache.js';

const SALT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A well-formed bcrypt hash that no password produces in practice: comparing against it
 * costs exactly what comparing against a real hash of that cost does.
 */
function dummyHash(cost: number): string {
  const bytes = randomBytes(75);
  const chars = [...bytes].map((b) => SALT_ALPHABET[b & 63]).join('');
  // The last salt character carries 2 unused bits: keep them zero so the salt is canonical.
  return `$2b$${String(cost).padStart(2, '0')}$${chars.slice(0, 21)}.${chars.slice(22, 53)}`;
}

/**
 * Basic auth against bcrypt hashes. A successful (user, password, hash) is remembered
 * for a while under an HMAC with a key that lives only in this process, so Prometheus
 * scraping every few seconds costs one bcrypt per restart, not one per scrape; failures
 * are never remembered. An unknown user is compared against a dummy hash of the highest
 * configured cost, so the time taken does not tell which users exist. Comparisons run
 * one at a time (as in exporter-toolkit): a flood of wrong passwords costs one core.
 */
export class BasicAuth {
  private users: ReadonlyMap<string, string> = new Map();
  private dummy = dummyHash(10);
  private readonly hmacKey = randomBytes(32);
  private readonly verified = new TtlCache<true>(15 * 60_000, 1000);
  private readonly oneAtATime = pLimit(1);

  constructor(users: ReadonlyMap<string, string>) {
    this.setUsers(users);
  }

  /** New users take effect for the next request; remembered successes for changed hashes no longer match. */
  setUsers(users: ReadonlyMap<string, string>): void {
    this.users = users;
    const costs = [...users.values()].map((h) => Number(h.slice(4, 6)));
    this.dummy = dummyHash(Math.max(4, ...costs));
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** True if `user` is configured and `password` is that user's (Hono's basicAuth parsed the header). */
  async verify(user: string, password: string): Promise<boolean> {
    const known = this.users.get(user);
    const hash = known ?? this.dummy;
    const id = createHmac('sha256', this.hmacKey).update(`${user.length}:${user}\0${hash}\0`).update(password).digest('base64');
    if (known !== undefined && this.verified.get(id)) return true;
    const ok = await this.oneAtATime(async () => {
      // A request queued behind the same credentials' first check needs no bcrypt of its own.
      if (known !== undefined && this.verified.get(id)) return true;
      return bcrypt.compare(password, hash);
    });
    if (!ok || known === undefined) return false;
    this.verified.set(id, true);
    return true;
  }
}
