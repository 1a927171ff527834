import { parseArgs } from 'node:util';

// `oort server` settings: flag, else environment variable, else default. One table, so that
// --help, the README and the parser cannot disagree.

export interface ServerConfig {
  address: string;
  port: number;
  dataDir: string;
  region: string;
  domains: string[];
  /** '-' for stdout, a file path, or 'off'. */
  accessLog: string;
  /** Incomplete multipart uploads older than this (ms) are removed with their parts. */
  uploadExpiryMs: number;
  rootAccessKey: string | undefined;
  rootSecretKey: string | undefined;
}

interface Setting {
  flag: string;
  env: string;
  default: string;
  help: string;
}

export const SETTINGS: Setting[] = [
  { flag: 'address', env: 'OORT_ADDRESS', default: '127.0.0.1', help: 'address to listen on' },
  { flag: 'port', env: 'OORT_PORT', default: '9000', help: 'port to listen on (0 picks a free one)' },
  { flag: 'data-dir', env: 'OORT_DATA_DIR', default: './.data', help: 'metadata database, object data and root credentials' },
  { flag: 'region', env: 'OORT_REGION', default: 'us-east-1', help: 'region name clients sign requests for' },
  { flag: 'domain', env: 'OORT_DOMAINS', default: 'localhost', help: 'comma-separated domains for virtual-hosted style (bucket.<domain>)' },
  { flag: 'upload-expiry', env: 'OORT_UPLOAD_EXPIRY', default: '7d', help: 'remove incomplete multipart uploads after this age (e.g. 7d, 12h, 30m, 90s)' },
  { flag: 'access-log', env: 'OORT_ACCESS_LOG', default: '-', help: "access log: '-' (stdout), a file path, or 'off'" },
];

export function helpText(): string {
  const rows = SETTINGS.map((s) => `  --${s.flag.padEnd(12)} ${s.env.padEnd(16)} ${s.help} (default: ${s.default})`);
  return [
    'Usage: oort server [options]',
    '',
    'Options (flag, environment variable, meaning):',
    ...rows,
    '  --help                        this text',
    '',
    'Root credentials: OORT_ROOT_ACCESS_KEY and OORT_ROOT_SECRET_KEY set them; otherwise they are',
    'generated on first start, stored in <data-dir>/root-credentials.json and printed once.',
  ].join('\n');
}

export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const options = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true });
  if (values.help) return 'help';
  const get = (flag: string): string => {
    const s = SETTINGS.find((x) => x.flag === flag)!;
    return ((values as Record<string, unknown>)[flag] as string | undefined) ?? env[s.env] ?? s.default;
  };
  const port = Number(get('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${get('port')}`);
  return {
    address: get('address'),
    port,
    dataDir: get('data-dir'),
    region: get('region'),
    domains: get('domain').split(',').map((d) => d.trim().toLowerCase()).filter(Boolean),
    accessLog: get('access-log'),
    uploadExpiryMs: parseDuration(get('upload-expiry')),
    rootAccessKey: env.OORT_ROOT_ACCESS_KEY || undefined,
    rootSecretKey: env.OORT_ROOT_SECRET_KEY || undefined,
  };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `7d` to milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (!m) throw new Error(`invalid duration: ${value} (use e.g. 7d, 12h, 30m, 90s)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
