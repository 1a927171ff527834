import type { Writable } from 'node:stream';

export interface AccessLogEntry {
  time: string;
  requestId: string;
  remote: string | undefined;
  method: string;
  path: string;
  operation: string | undefined;
  accessKey: string | null | undefined;
  status: number;
  error: string | undefined;
  bytesIn: number;
  bytesOut: number;
  ms: number;
}

const SECRET_PARAMS = /([?&](?:X-Amz-Signature|Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&]*/gi;

/** One JSON line per request; signatures in query strings are redacted. */
export class AccessLog {
  private readonly out: Writable | undefined;
  constructor(out: Writable | undefined) {
    this.out = out;
  }

  /** False when logging is off: callers skip building the entry. */
  get enabled(): boolean {
    return this.out !== undefined;
  }

  write(entry: AccessLogEntry): void {
    if (!this.out) return;
    entry.path = entry.path.replace(SECRET_PARAMS, '$1REDACTED');
    this.out.write(JSON.stringify(entry) + '\n');
  }
}
