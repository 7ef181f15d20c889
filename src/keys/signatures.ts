import { invert, mod } from '@noble/curves/abstract/modular';
import { ed25519 } from '@noble/curves/ed25519';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils';
import type { KeyAlgorithm } from '../protocol/keys.js';

const P = 2n ** 255n - 19n;
/** libsignal's type byte before a serialized Curve25519 public key. */
const DJB_TYPE = 0x05;

/**
 * Whether `signature` is the identity key's signature over `message` (a prekey's public key exactly as
 * uploaded). Both algorithms go through @noble/curves' Ed25519 verification (strict RFC 8032 checks).
 */
export function verifyKeySignature(algorithm: KeyAlgorithm, identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    if (algorithm === 'ed25519') return identityKey.length === 32 && ed25519.verify(signature, message, identityKey, { zip215: false });
    return verifyXeddsa(identityKey, message, signature);
  } catch {
    return false;
  }
}

/** Whether the bytes can be an identity key of the algorithm (an Ed25519 key must decode to a curve point). */
export function isIdentityKey(algorithm: KeyAlgorithm, key: Uint8Array): boolean {
  if (algorithm === 'xeddsa') return montgomeryU(key) !== null;
  if (key.length !== 32) return false;
  try {
    ed25519.Point.fromHex(key);
    return true;
  } catch {
    return false;
  }
}

function montgomeryU(key: Uint8Array): Uint8Array | null {
  if (key.length === 33 && key[0] === DJB_TYPE) return key.subarray(1);
  return key.length === 32 ? key : null;
}

/**
 * XEdDSA (Signal's signatures by Curve25519 keys): the Montgomery key maps to the Edwards point with
 * y = (u - 1) / (u + 1) and the sign bit the signature carries in its last byte, and the signature with
 * that bit cleared is then an ordinary Ed25519 signature under that point.
 */
function verifyXeddsa(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const uBytes = montgomeryU(identityKey);
  if (!uBytes) return false;
  const u = mod(bytesToNumberLE(uBytes) & ((1n << 255n) - 1n), P);
  if (u === P - 1n) return false;
  const y = mod((u - 1n) * invert(u + 1n, P), P);
  const edwardsKey = numberToBytesLE(y, 32);
  edwardsKey[31]! |= signature[63]! & 0x80;
  const plain = Uint8Array.from(signature);
  plain[63]! &= 0x7f;
  return ed25519.verify(plain, message, edwardsKey, { zip215: false });
}
