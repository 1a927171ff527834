import { parseArgs } from 'node:util';

// `oort server` settings: flag, else environment variable, else default. One table, so that
// --help, the README and the parser cannot disagree.

export interface ServerConfig {
  address: string;
  port: number;
  dataDir: string;
  /** Data directories of the shard engine, one failure domain each (default: <dataDir>/data). */
  drives: string[];
  /** Each data directory is scrubbed (every block re-hashed) about this often (ms); 0 = never. */
  scrubPeriodMs: number;
  region: string;
  domains: string[];
  /** '-' for stdout, a file path, or 'off'. */
  accessLog: string;
  /** Incomplete multipart uploads older than this (ms) are removed with their parts. */
  uploadExpiryMs: number;
  /** PEM files for HTTPS (reloaded on SIGHUP). */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Generate a self-signed certificate once into the data directory and serve HTTPS with it. */
  tlsSelfSigned: boolean;
  /** With TLS: a plain-HTTP listener that only redirects to HTTPS (undefined: none). */
  httpPort: number | undefined;
  /** Allow plain HTTP on a non-loopback address. */
  insecureHttp: boolean;
  /** Self-service sign-up endpoint. */
  allowSignup: boolean;
  /** Requests per second per access key (and per IP for anonymous requests); 0 = unlimited. */
  rateLimit: number;
  rateBurst: number;
  /** Share links: lifetime when the creator gives none, and the longest allowed (ms). */
  shareDefaultExpiryMs: number;
  shareMaxExpiryMs: number;
  rootAccessKey: string | undefined;
  rootSecretKey: string | undefined;
  /** Storage nodes: the cluster secret's file (unset: local directories only). */
  clusterSecretFile: string | undefined;
  /** PEM certificate(s) to trust for https:// storage nodes. */
  nodeCa: string | undefined;
  heartbeatMs: number;
  nodeOfflineMs: number;
  /** An unreachable node is declared lost after this (ms). */
  nodeGraceMs: number;
  /** One audit challenge per failure domain this often (ms); 0 = off. */
  auditIntervalMs: number;
}

interface Setting {
  flag: string;
  env: string;
  /** undefined: unset by default. Boolean settings are flags without a value (env: 1/true). */
  default: string | undefined;
  boolean?: boolean;
  help: string;
}

export const SETTINGS: Setting[] = [
  { flag: 'address', env: 'OORT_ADDRESS', default: '127.0.0.1', help: 'address to listen on' },
  { flag: 'port', env: 'OORT_PORT', default: '9000', help: 'port of the S3 API (HTTPS when TLS is set; 0 picks a free one)' },
  { flag: 'data-dir', env: 'OORT_DATA_DIR', default: './.data', help: 'metadata database, object data, master key' },
  { flag: 'drives', env: 'OORT_DRIVES', default: undefined, help: 'comma-separated data directories, one per disk (default: <data-dir>/data)' },
  { flag: 'scrub-period', env: 'OORT_SCRUB_PERIOD', default: '30d', help: 're-check every stored block this often (e.g. 30d; 0 = never)' },
  { flag: 'region', env: 'OORT_REGION', default: 'us-east-1', help: 'region name clients sign requests for' },
  { flag: 'domain', env: 'OORT_DOMAINS', default: 'localhost', help: 'comma-separated domains for virtual-hosted style (bucket.<domain>)' },
  { flag: 'tls-cert', env: 'OORT_TLS_CERT', default: undefined, help: 'certificate chain (PEM) for HTTPS; reloaded on SIGHUP' },
  { flag: 'tls-key', env: 'OORT_TLS_KEY', default: undefined, help: 'private key (PEM) for HTTPS; reloaded on SIGHUP' },
  { flag: 'tls-self-signed', env: 'OORT_TLS_SELF_SIGNED', default: undefined, boolean: true, help: 'HTTPS with a self-signed certificate made once in <data-dir>/tls' },
  { flag: 'http-port', env: 'OORT_HTTP_PORT', default: undefined, help: 'with TLS: plain-HTTP port that only redirects to HTTPS' },
  { flag: 'insecure-http', env: 'OORT_INSECURE_HTTP', default: undefined, boolean: true, help: 'allow plain HTTP on a non-loopback address (not recommended)' },
  { flag: 'allow-signup', env: 'OORT_ALLOW_SIGNUP', default: undefined, boolean: true, help: 'enable self-service sign-up (POST /_oort/signup)' },
  { flag: 'rate-limit', env: 'OORT_RATE_LIMIT', default: '100', help: 'requests/s per access key (per IP when anonymous); 0 = off' },
  { flag: 'rate-burst', env: 'OORT_RATE_BURST', default: '100', help: 'requests a client may send at once above the rate' },
  { flag: 'upload-expiry', env: 'OORT_UPLOAD_EXPIRY', default: '7d', help: 'remove incomplete multipart uploads after this age (e.g. 7d, 12h, 30m, 90s)' },
  { flag: 'share-default-expiry', env: 'OORT_SHARE_DEFAULT_EXPIRY', default: '12h', help: 'lifetime of a share link when its creator names none' },
  { flag: 'share-max-expiry', env: 'OORT_SHARE_MAX_EXPIRY', default: '7d', help: 'longest lifetime a share link may have' },
  { flag: 'access-log', env: 'OORT_ACCESS_LOG', default: '-', help: "access log: '-' (stdout), a file path, or 'off'" },
  { flag: 'cluster-secret-file', env: 'OORT_CLUSTER_SECRET_FILE', default: undefined, help: 'secret shared with storage nodes; enables them (then local directories only with --drives)' },
  { flag: 'node-ca', env: 'OORT_NODE_CA', default: undefined, help: 'PEM certificate(s) to trust for https:// storage nodes' },
  { flag: 'heartbeat', env: 'OORT_HEARTBEAT', default: '10s', help: 'storage node heartbeat interval (3 missed: suspect)' },
  { flag: 'node-offline-after', env: 'OORT_NODE_OFFLINE_AFTER', default: '5m', help: 'an unreachable node is offline after this (segments at k+1 repaired)' },
  { flag: 'node-grace', env: 'OORT_NODE_GRACE', default: '15m', help: 'an unreachable node is declared lost after this (its pieces repaired)' },
  { flag: 'audit-interval', env: 'OORT_AUDIT_INTERVAL', default: '1m', help: 'one storage-proof challenge per node and data directory this often (0 = off)' },
];

export function helpText(): string {
  const rows = SETTINGS.map((s) => `  --${s.flag.padEnd(16)} ${s.env.padEnd(21)} ${s.help}${s.default !== undefined ? ` (default: ${s.default})` : ''}`);
  return [
    'Usage: oort server [options]',
    '',
    'Options (flag, environment variable, meaning):',
    ...rows,
    '  --help                                         this text',
    '',
    'Root credentials: OORT_ROOT_ACCESS_KEY and OORT_ROOT_SECRET_KEY set them; otherwise a key is',
    'generated on first start and printed once. The master key (<data-dir>/master.key, or',
    'OORT_MASTER_KEY and OORT_MASTER_KEY_ID) seals secrets and data keys: back it up.',
  ].join('\n');
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

function number(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`invalid --${name}: ${v}`);
  return n;
}

export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const options = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: s.boolean ? ('boolean' as const) : ('string' as const) }]));
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true });
  if (values.help) return 'help';
  const given = values as Record<string, string | boolean | undefined>;
  const get = (flag: string): string | undefined => {
    const s = SETTINGS.find((x) => x.flag === flag)!;
    const v = given[flag];
    return typeof v === 'string' ? v : (env[s.env] ?? s.default);
  };
  const flag = (name: string): boolean => given[name] === true || truthy(env[SETTINGS.find((x) => x.flag === name)!.env]);
  const httpPort = get('http-port');
  const config: ServerConfig = {
    address: get('address')!,
    port: number('port', get('port')!, 0, 65535),
    dataDir: get('data-dir')!,
    drives: (get('drives') ?? '').split(',').map((d) => d.trim()).filter(Boolean),
    scrubPeriodMs: get('scrub-period')!.trim() === '0' ? 0 : parseDuration(get('scrub-period')!),
    region: get('region')!,
    domains: get('domain')!.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean),
    accessLog: get('access-log')!,
    uploadExpiryMs: parseDuration(get('upload-expiry')!),
    tlsCert: get('tls-cert'),
    tlsKey: get('tls-key'),
    tlsSelfSigned: flag('tls-self-signed'),
    httpPort: httpPort !== undefined ? number('http-port', httpPort, 0, 65535) : undefined,
    insecureHttp: flag('insecure-http'),
    allowSignup: flag('allow-signup'),
    rateLimit: number('rate-limit', get('rate-limit')!, 0, 1e9),
    rateBurst: number('rate-burst', get('rate-burst')!, 1, 1e9),
    shareDefaultExpiryMs: parseDuration(get('share-default-expiry')!),
    shareMaxExpiryMs: parseDuration(get('share-max-expiry')!),
    rootAccessKey: env.OORT_ROOT_ACCESS_KEY || undefined,
    rootSecretKey: env.OORT_ROOT_SECRET_KEY || undefined,
    clusterSecretFile: get('cluster-secret-file'),
    nodeCa: get('node-ca'),
    heartbeatMs: parseDuration(get('heartbeat')!),
    nodeOfflineMs: parseDuration(get('node-offline-after')!),
    nodeGraceMs: parseDuration(get('node-grace')!),
    auditIntervalMs: get('audit-interval')!.trim() === '0' ? 0 : parseDuration(get('audit-interval')!),
  };
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (config.shareDefaultExpiryMs < 1000 || config.shareDefaultExpiryMs > config.shareMaxExpiryMs) {
    throw new Error('--share-default-expiry must be at least 1s and at most --share-max-expiry');
  }
  if (config.httpPort !== undefined && !usesTls(config)) throw new Error('--http-port (the redirect listener) needs TLS');
  return config;
}

export function usesTls(c: ServerConfig): boolean {
  return c.tlsSelfSigned || c.tlsCert !== undefined;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `7d` (or `250ms`) to milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)(ms|[smhd])$/.exec(value.trim());
  if (!m) throw new Error(`invalid duration: ${value} (use e.g. 7d, 12h, 30m, 90s)`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
