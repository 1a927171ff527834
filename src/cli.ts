import { helpText, parseServerConfig } from './config.ts';
import { startServer } from './server.ts';

// `oort <command>`: today only `server`.

const USAGE = 'Usage: oort server [options]   (oort server --help lists them)';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command !== 'server') {
    console.error(`unknown command: ${command}\n${USAGE}`);
    return 1;
  }
  const config = parseServerConfig(rest, process.env);
  if (config === 'help') {
    console.log(helpText());
    return 0;
  }
  const server = await startServer(config);
  if (server.rootCreated) {
    console.error('Root credentials (shown once; also in the data directory):');
    console.error(`  Access key: ${server.root.accessKeyId}`);
    console.error(`  Secret key: ${server.root.secretAccessKey}`);
  }
  console.error(`oort-storage listening on ${server.url} (region ${config.region}, data ${config.dataDir})`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
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
