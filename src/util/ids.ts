import { randomBytes } from 'node:crypto';

/**
 * UUID version 7 (RFC 9562): 48-bit Unix milliseconds, a 12-bit counter within the millisecond
 * (RFC 9562 §6.2 method 1, so ids are monotonic within a process), then 62 random bits.
 * Time-ordered, so record ids sort by creation and index well; unique without coordination, so an
 * id minted when an event happens stays its idempotency key for ever.
 * Random bits come from a pooled buffer: one randomBytes syscall per record shows at 20k records/s.
 */
let pool = Buffer.alloc(0);
let poolPos = 0;
let lastMs = -1;
let counter = 0;

export function uuidv7(nowMs: number = Date.now()): string {
  let ms = nowMs;
  if (ms <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  if (poolPos + 8 > pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  const b = Buffer.alloc(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | ((counter >> 8) & 0x0f);
  b[7] = counter & 0xff;
  pool.copy(b, 8, poolPos, poolPos + 8);
  poolPos += 8;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A bearer token: 32 random bytes, base64url, with a recognisable prefix (secret scanners find it). */
export function newToken(): string {
  return 'lgt_' + randomBytes(32).toString('base64url');
}
