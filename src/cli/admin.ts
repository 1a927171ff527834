import { parseArgs } from 'node:util';
import { AdminClient, CONNECTION_FLAGS } from './admin-client.ts';
import { MAINTENANCE_USAGE, runMaintenance } from './maintenance.ts';
import { NODE_ADMIN_USAGE, runNodeAdmin } from './admin-nodes.ts';

// `oort admin account|key ...`: account and access-key management through the admin API.

export const ADMIN_USAGE = `Usage: oort admin <command> [options]

Commands:
  account create --name NAME [--email E] [--admin]   create an account
  account list                                       list accounts
  account suspend ID | account activate ID           refuse / allow an account's keys
  account rate-limit ID N|default                    requests/s for the account's keys (0 = unlimited)
  account max-buckets ID N|default                   most buckets the account may own (default 100)
  key create ACCOUNT_ID                              new access key (the secret is shown once)
  key list ACCOUNT_ID                                an account's keys
  key disable KEY_ID | key enable KEY_ID             refuse / allow one key
  key delete KEY_ID                                  remove a key

Connection (flag, environment variable):
  --endpoint URL     OORT_ENDPOINT      default http://127.0.0.1:9000
  --access-key ID    OORT_ACCESS_KEY    an administrator's access key (or AWS_ACCESS_KEY_ID)
  --secret-key S     OORT_SECRET_KEY    its secret (or AWS_SECRET_ACCESS_KEY)
  --region R         OORT_REGION        default us-east-1
  --ca FILE          OORT_CA            trust this PEM certificate (e.g. <data-dir>/tls/cert.pem)

${NODE_ADMIN_USAGE}

${MAINTENANCE_USAGE}`;

type Route = { method: string; path: string; body?: unknown };

function route(words: string[], values: Record<string, string | boolean | undefined>): Route {
  const [noun, verb, arg] = words;
  const need = (what: string) => {
    if (!arg) throw new Error(`${noun} ${verb} needs ${what}`);
    return encodeURIComponent(arg);
  };
  switch (`${noun} ${verb}`) {
    case 'account create':
      if (typeof values.name !== 'string') throw new Error('account create needs --name');
      return { method: 'POST', path: 'accounts', body: { displayName: values.name, email: values.email, isAdmin: values.admin === true } };
    case 'account list':
      return { method: 'GET', path: 'accounts' };
    case 'account suspend':
      return { method: 'POST', path: `accounts/${need('an account id')}/suspend` };
    case 'account rate-limit': {
      const value = words[3];
      if (value === undefined || (value !== 'default' && !/^\d+(\.\d+)?$/.test(value))) throw new Error('account rate-limit needs an account id and a number (or "default")');
      return { method: 'POST', path: `accounts/${need('an account id')}/rate-limit`, body: { rateLimit: value === 'default' ? null : Number(value) } };
    }
    case 'account max-buckets': {
      const value = words[3];
      if (value === undefined || (value !== 'default' && !/^\d+$/.test(value))) throw new Error('account max-buckets needs an account id and a number (or "default")');
      return { method: 'POST', path: `accounts/${need('an account id')}/max-buckets`, body: { maxBuckets: value === 'default' ? null : Number(value) } };
    }
    case 'account activate':
      return { method: 'POST', path: `accounts/${need('an account id')}/activate` };
    case 'key create':
      return { method: 'POST', path: `accounts/${need('an account id')}/keys` };
    case 'key list':
      return { method: 'GET', path: `accounts/${need('an account id')}/keys` };
    case 'key disable':
      return { method: 'POST', path: `keys/${need('an access key id')}/disable` };
    case 'key enable':
      return { method: 'POST', path: `keys/${need('an access key id')}/enable` };
    case 'key delete':
      return { method: 'DELETE', path: `keys/${need('an access key id')}` };
    default:
      throw new Error(`unknown admin command: ${words.join(' ')}\n\n${ADMIN_USAGE}`);
  }
}

export async function runAdmin(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'rotate-master-key' || argv[0] === 'drive') return runMaintenance(argv, env);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      name: { type: 'string' },
      email: { type: 'string' },
      admin: { type: 'boolean' },
      zone: { type: 'string' },
      capacity: { type: 'string' },
      'no-wait': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(ADMIN_USAGE);
    return values.help ? 0 : 1;
  }
  const accessKeyId = values['access-key'] ?? env.OORT_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = values['secret-key'] ?? env.OORT_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error('an administrator key is needed: --access-key/--secret-key or OORT_ACCESS_KEY/OORT_SECRET_KEY');
  const client = new AdminClient({
    endpoint: values.endpoint ?? env.OORT_ENDPOINT ?? 'http://127.0.0.1:9000',
    accessKeyId,
    secretAccessKey,
    region: values.region ?? env.OORT_REGION ?? 'us-east-1',
    caFile: values.ca ?? env.OORT_CA,
  });
  const handled = await runNodeAdmin(client, positionals, values);
  if (handled !== undefined) return handled;
  const r = route(positionals, values);
  const res = await client.call(r.method, r.path, r.body);
  if (res.body !== undefined) console.log(typeof res.body === 'string' ? res.body : JSON.stringify(res.body, null, 2));
  return res.status >= 200 && res.status < 300 ? 0 : 1;
}
