import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. Both libraries hash on libuv's thread pool. */
const ARGON2ID: Options = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const CURRENT_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

export interface PasswordCheck {
  valid: boolean;
  /** The stored hash is bcrypt (from the original design) or older argon2 parameters. */
  needsRehash: boolean;
}

export async function checkPassword(storedHash: string, password: string): Promise<PasswordCheck> {
  const isBcrypt = /^\$2[abxy]\$/.test(storedHash);
  const valid = isBcrypt ? await verifyBcrypt(password, storedHash) : await verify(storedHash, password);
  return { valid, needsRehash: valid && !storedHash.startsWith(CURRENT_PREFIX) };
}

let decoy: Promise<string> | undefined;

/** Spends the same time as a real check, so an unknown email cannot be told from a wrong password. */
export async function checkDecoyPassword(password: string): Promise<void> {
  decoy ??= hashPassword('decoy password that matches nothing');
  await verify(await decoy, password);
}
