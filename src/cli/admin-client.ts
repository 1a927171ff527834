import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';

// A small client for the admin JSON API (SigV4-signed requests with an administrator's key), and,
// with another basePath, for the owner API (signed with the account's own key).

/** The flags every client command (admin, share) takes to reach a server and sign for it. */
export const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  'access-key': { type: 'string' },
  'secret-key': { type: 'string' },
  region: { type: 'string' },
  ca: { type: 'string' },
} as const;

export interface AdminClientOptions {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** PEM file of a CA (or self-signed certificate) to trust. */
  caFile?: string;
  /** Where the API lives (default: the admin API, /_oort/admin/v1/). */
  basePath?: string;
}

export class AdminClient {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly ca: Buffer | undefined;
  private readonly basePath: string;

  constructor(o: AdminClientOptions) {
    this.basePath = o.basePath ?? '/_oort/admin/v1/';
    this.url = new URL(o.endpoint);
    this.signer = new SignatureV4({
      service: 's3',
      region: o.region,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      sha256: Hash.bind(null, 'sha256'),
    });
    this.ca = o.caFile ? readFileSync(o.caFile) : undefined;
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    // `path` may carry a query (`buckets/b/public?prefix=p`): signed as query parameters.
    const [pathOnly, search] = path.split('?', 2) as [string, string | undefined];
    const fullPath = `${this.basePath}${path}`;
    const signed = await this.signer.sign({
      method,
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path: `${this.basePath}${pathOnly}`,
      query: search === undefined ? undefined : Object.fromEntries(new URLSearchParams(search)),
      headers: {
        host: this.url.host,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
      },
      body: payload,
    });
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        { method, hostname: this.url.hostname, port: this.url.port, path: fullPath, headers: signed.headers, ca: this.ca },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {}
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
