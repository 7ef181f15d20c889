import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';
import pLimit, { type LimitFunction } from 'p-limit';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. Both libraries hash on libuv's thread pool. */
const ARGON2ID: Options = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const CURRENT_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

export interface PasswordCheck {
  valid: boolean;
  /** The stored hash is bcrypt (from the original design) or older argon2 parameters. */
  needsRehash: boolean;
}

/**
 * Password hashing and checks, at most `concurrency` at a time: each keeps a core busy for tens of
 * milliseconds, and a burst of logins on every core at once would starve the event loop that serves
 * the sockets. The others wait their turn (their requests take longer; nothing else does).
 */
export class Passwords {
  private readonly limit: LimitFunction;
  private decoy: Promise<string> | undefined;

  constructor(options: { concurrency: number }) {
    this.limit = pLimit(options.concurrency);
  }

  hash(password: string): Promise<string> {
    return this.limit(() => hash(password, ARGON2ID));
  }

  async check(storedHash: string, password: string): Promise<PasswordCheck> {
    const isBcrypt = /^\$2[abxy]\$/.test(storedHash);
    const valid = await this.limit(() => (isBcrypt ? verifyBcrypt(password, storedHash) : verify(storedHash, password)));
    return { valid, needsRehash: valid && !storedHash.startsWith(CURRENT_PREFIX) };
  }

  /** Spends the same time as a real check, so an unknown email cannot be told from a wrong password. */
  async checkDecoy(password: string): Promise<void> {
    this.decoy ??= this.hash('decoy password that matches nothing');
    const decoy = await this.decoy;
    await this.limit(() => verify(decoy, password));
  }
}
