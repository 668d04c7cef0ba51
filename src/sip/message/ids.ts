// Random identifiers: tags (RFC 3261 §19.3, >= 32 bits of randomness), branches (§8.1.1.7,
// magic cookie "z9hG4bK" + unique) and Call-IDs (§8.1.1.4). Drawn from a pooled CSPRNG buffer
// so minting one costs a slice, not a syscall.
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let poolPos = POOL.length;

function randomToken(bytes: number): string {
  if (poolPos + bytes > POOL.length) {
    randomFillSync(POOL);
    poolPos = 0;
  }
  // base64url chars ("-", "_", alphanumerics) are all token chars.
  const s = POOL.toString('base64url', poolPos, poolPos + bytes);
  poolPos += bytes;
  return s;
}

/** 64 random bits. */
export function newTag(): string {
  return randomToken(8);
}

/** "z9hG4bK" + 96 random bits. */
export function newBranch(): string {
  return 'z9hG4bK' + randomToken(12);
}

/** 144 random bits; no host part (RFC 3261 §8.1.1.4 recommends but does not require one). */
export function newCallId(): string {
  return randomToken(18);
}
