import { randomBytes } from 'node:crypto';

// Request ids: a per-process random prefix and a counter, cheap and unique enough to find a
// request in the access log.
const prefix = randomBytes(4).toString('hex').toUpperCase();
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) % 0x100000000;
  return prefix + counter.toString(16).toUpperCase().padStart(8, '0');
}
