import { parseArgs } from 'node:util';
import { AdminClient, CONNECTION_FLAGS } from './admin-client.ts';
import { parseDuration } from '../config.ts';

// `oort share create|list|revoke`: share links through the owner API (/_oort/api/v1/shares), signed
// with the account's own key.

export const SHARE_USAGE = `Usage: oort share <command> [options]

Commands:
  create s3://BUCKET/KEY [--expires 12h]      a link to one object
  create s3://BUCKET/FOLDER/ [--expires 12h]  a link to a folder (browse and download; s3://BUCKET/ = all)
  list                                        your live links
  revoke ID                                   end a link now

  --expires D   lifetime: 90s, 30m, 12h, 7d (default and maximum are the server's, 12h and 7d unless set)
  --json        print the API's JSON

Connection (flag, environment variable):
  --endpoint URL     OORT_ENDPOINT or AWS_ENDPOINT_URL   default http://127.0.0.1:9000
  --access-key ID    AWS_ACCESS_KEY_ID or OORT_ACCESS_KEY    your access key
  --secret-key S     AWS_SECRET_ACCESS_KEY or OORT_SECRET_KEY
  --region R         AWS_REGION or OORT_REGION            default us-east-1
  --ca FILE          OORT_CA                              trust this PEM certificate`;

/** s3://bucket/key -> {bucket, key}; a trailing slash (or no key) means a folder. */
export function parseS3Url(url: string): { bucket: string; key: string } | { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(url);
  if (!m) throw new Error(`not an s3:// URL: ${url}`);
  const bucket = m[1]!;
  const rest = m[2] ?? '';
  return rest === '' || rest.endsWith('/') ? { bucket, prefix: rest } : { bucket, key: rest };
}

interface ShareInfo {
  id: string;
  bucket: string;
  key?: string;
  prefix?: string;
  expiresAt: string;
  url?: string;
}

function target(s: ShareInfo): string {
  return `s3://${s.bucket}/${s.key ?? s.prefix ?? ''}`;
}

export async function runShare(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      expires: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || positionals.length === 0) {
    out(SHARE_USAGE);
    return values.help ? 0 : 1;
  }
  const [command, arg] = positionals;
  let method: string;
  let path = 'shares';
  let body: unknown;
  switch (command) {
    case 'create': {
      if (!arg) throw new Error('share create needs s3://bucket/key or s3://bucket/folder/');
      const expiresInSeconds = values.expires !== undefined ? parseDuration(values.expires) / 1000 : undefined;
      method = 'POST';
      body = { ...parseS3Url(arg), expiresInSeconds };
      break;
    }
    case 'list':
      method = 'GET';
      break;
    case 'revoke':
      if (!arg) throw new Error('share revoke needs a link id (see oort share list)');
      method = 'DELETE';
      path = `shares/${encodeURIComponent(arg)}`;
      break;
    default:
      throw new Error(`unknown share command: ${command}\n\n${SHARE_USAGE}`);
  }
  const accessKeyId = values['access-key'] ?? env.AWS_ACCESS_KEY_ID ?? env.OORT_ACCESS_KEY;
  const secretAccessKey = values['secret-key'] ?? env.AWS_SECRET_ACCESS_KEY ?? env.OORT_SECRET_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('an access key is needed: --access-key/--secret-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY');
  const client = new AdminClient({
    endpoint: values.endpoint ?? env.OORT_ENDPOINT ?? env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:9000',
    accessKeyId,
    secretAccessKey,
    region: values.region ?? env.AWS_REGION ?? env.OORT_REGION ?? 'us-east-1',
    caFile: values.ca ?? env.OORT_CA,
    basePath: '/_oort/api/v1/',
  });
  const res = await client.call(method, path, body);
  const ok = res.status >= 200 && res.status < 300;
  if (!ok || values.json) {
    if (res.body !== undefined) (ok ? out : console.error)(typeof res.body === 'string' ? res.body : JSON.stringify(res.body, null, 2));
    return ok ? 0 : 1;
  }
  if (command === 'create') {
    const s = (res.body as { share: ShareInfo }).share;
    out(s.url!);
    out(`id ${s.id}  expires ${s.expiresAt}  ${target(s)}`);
  } else if (command === 'list') {
    for (const s of (res.body as { shares: ShareInfo[] }).shares) out(`${s.id}  ${s.expiresAt}  ${target(s)}`);
  } else {
    out(`revoked ${arg}`);
  }
  return 0;
}
