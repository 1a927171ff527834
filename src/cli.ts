import { helpText, parseServerConfig } from './config.ts';
import { ADMIN_USAGE, runAdmin } from './cli/admin.ts';
import { SHARE_USAGE, runShare } from './cli/share.ts';
import { runNode } from './cli/node.ts';

// `oort <command>`: `server` runs the gateway, `admin` manages accounts and keys through it.

const USAGE = `Usage: oort server [options]     run the S3 gateway (oort server --help)
       oort admin <command>         accounts, keys, storage nodes (oort admin --help)
       oort share <command>         share links to objects and folders (oort share --help)
       oort node [options]          run a storage node (oort node --help)`;

async function serve(argv: string[]): Promise<number> {
  const config = parseServerConfig(argv, process.env);
  if (config === 'help') {
    console.log(helpText());
    return 0;
  }
  // Loaded only to serve: the client commands (admin, share) start without the engine and stores.
  const { startServer } = await import('./server.ts');
  const server = await startServer(config);
  if (server.createdRoot) {
    console.error('Root credentials (shown once; set OORT_ROOT_ACCESS_KEY/OORT_ROOT_SECRET_KEY to choose them):');
    console.error(`  Access key: ${server.createdRoot.accessKeyId}`);
    console.error(`  Secret key: ${server.createdRoot.secretAccessKey}`);
  }
  if (server.url.startsWith('http:') && !['127.0.0.1', '::1', 'localhost'].includes(config.address)) {
    console.error('WARNING: serving plain HTTP on a non-loopback address (--insecure-http): credentials and data cross the network unencrypted.');
  }
  if (server.tlsCertFile) console.error(`TLS certificate: ${server.tlsCertFile}`);
  if (server.redirectUrl) console.error(`redirecting ${server.redirectUrl} to HTTPS`);
  console.error(`oort-storage listening on ${server.url} (region ${config.region}, data ${config.dataDir})`);
  process.on('SIGHUP', () => {
    server.reloadTls().then(
      () => console.error('TLS certificate reloaded'),
      (err) => console.error('TLS reload failed, keeping the old certificate:', err instanceof Error ? err.message : err),
    );
  });
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return serve(rest);
    case 'admin':
      return runAdmin(rest, process.env);
    case 'share':
      return runShare(rest, process.env);
    case 'node':
      return runNode(rest, process.env);
    case '--help':
    case 'help':
      console.log(`${USAGE}\n\n${ADMIN_USAGE}\n\n${SHARE_USAGE}`);
      return 0;
    default:
      console.error(command === undefined ? USAGE : `unknown command: ${command}\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
