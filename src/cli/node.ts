import { parseArgs } from 'node:util';
import { startNode } from '../node/server.ts';
import { readClusterSecret } from '../node/auth.ts';
import { ensureSelfSigned } from '../http/tls.ts';
import { parseDuration } from '../config.ts';

// `oort node`: runs a storage node (src/node/server.ts) on one data directory.

export const NODE_USAGE = `Usage: oort node --cluster-secret-file F [options]

Options (flag, environment variable):
  --data-dir D              OORT_NODE_DATA_DIR        where pieces live (default ./.node-data)
  --listen ADDR:PORT        OORT_NODE_LISTEN          default 127.0.0.1:9100 (port 0 picks a free one)
  --cluster-secret-file F   OORT_CLUSTER_SECRET_FILE  the secret shared with the gateways (>= 16 characters)
  --reserve SIZE            OORT_NODE_RESERVE         refuse writes below this much free space (default 1G)
  --capacity SIZE           OORT_NODE_CAPACITY        capacity to announce (default: the file system's size)
  --tls-cert F, --tls-key F OORT_TLS_CERT/_KEY        serve HTTPS with this certificate (PEM)
  --tls-self-signed         OORT_TLS_SELF_SIGNED      HTTPS with a certificate made once in <data-dir>/tls
  --clock-skew DURATION     OORT_NODE_CLOCK_SKEW      allowed clock difference to gateways (default 5m)
  --insecure-http           OORT_INSECURE_HTTP        allow plain HTTP on a non-loopback address`;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `500M`, `5G`, `1T`, or bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m) throw new Error(`invalid size: ${value} (use e.g. 512M, 5G, 2T)`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
}

export async function runNode(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      'cluster-secret-file': { type: 'string' },
      reserve: { type: 'string' },
      capacity: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-self-signed': { type: 'boolean' },
      'clock-skew': { type: 'string' },
      'insecure-http': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(NODE_USAGE);
    return 0;
  }
  const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);
  const dataDir = values['data-dir'] ?? env.OORT_NODE_DATA_DIR ?? './.node-data';
  const listen = values.listen ?? env.OORT_NODE_LISTEN ?? '127.0.0.1:9100';
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`invalid --listen ${listen} (use ADDRESS:PORT)`);
  const address = m[1]!.replace(/^\[(.*)\]$/, '$1');
  const secretFile = values['cluster-secret-file'] ?? env.OORT_CLUSTER_SECRET_FILE;
  if (!secretFile) throw new Error(`--cluster-secret-file is required\n\n${NODE_USAGE}`);
  const cert = values['tls-cert'] ?? env.OORT_TLS_CERT;
  const key = values['tls-key'] ?? env.OORT_TLS_KEY;
  if ((cert === undefined) !== (key === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const selfSigned = values['tls-self-signed'] === true || truthy(env.OORT_TLS_SELF_SIGNED);
  const tls = cert ? { cert, key: key! } : selfSigned ? await ensureSelfSigned(dataDir, [], address) : undefined;
  if (!tls && !['127.0.0.1', '::1', 'localhost'].includes(address) && !(values['insecure-http'] === true || truthy(env.OORT_INSECURE_HTTP))) {
    throw new Error(`refusing plain HTTP on ${address}: give --tls-cert/--tls-key or --tls-self-signed (or --insecure-http)`);
  }
  const capacity = values.capacity ?? env.OORT_NODE_CAPACITY;
  const node = await startNode({
    dataDir,
    secret: await readClusterSecret(secretFile),
    address,
    port: Number(m[2]),
    reserveBytes: parseSize(values.reserve ?? env.OORT_NODE_RESERVE ?? '1G'),
    capacityBytes: capacity ? parseSize(capacity) : undefined,
    skewMs: parseDuration(values['clock-skew'] ?? env.OORT_NODE_CLOCK_SKEW ?? '5m'),
    tls,
  });
  if (tls) console.error(`TLS certificate: ${tls.cert}`);
  console.error(`oort node ${node.id} listening on ${node.url} (data ${dataDir})`);
  process.on('SIGHUP', () => void node.reloadTls().catch((err: unknown) => console.error('TLS reload failed:', err)));
  const stop = async () => {
    await node.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}
