import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { SqliteMetaStore } from '../meta/index.ts';
import { ShardEngine, rotateMasterKey } from '../engine/shard/index.ts';
import { loadKeyRing } from '../security/master-key.ts';
import { resealSecrets } from '../iam/index.ts';

// Offline maintenance on a data directory (run with the server stopped):
//   oort admin rotate-master-key [--data-dir D]
//   oort admin drive replace OLD NEW [--data-dir D] [--drives A,B,...]

export const MAINTENANCE_USAGE = `Offline commands (stop the server first):
  rotate-master-key [--data-dir D]                   new master key; re-wraps data keys and secrets, no object data is rewritten
  drive replace OLD NEW [--data-dir D] [--drives L]  rebuild a failed data directory's pieces into the empty directory NEW;
                                                     then start the server with NEW in --drives instead of OLD`;

function options(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' }, drives: { type: 'string' } },
  });
}

export async function runMaintenance(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = options(argv);
  const dataDir = values['data-dir'] ?? env.OORT_DATA_DIR ?? './.data';
  const meta = await SqliteMetaStore.open(join(dataDir, 'meta.sqlite'));
  try {
    if (positionals[0] === 'rotate-master-key') {
      const result = await rotateMasterKey({
        dataDir,
        meta,
        segments: meta.segmentStore(),
        env,
        rewrapOthers: async (keys) => {
          const n = await resealSecrets(meta, keys);
          console.error(`re-sealed ${n} access key secret(s)`);
        },
      });
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    if (positionals[0] === 'drive' && positionals[1] === 'replace' && positionals[2] && positionals[3]) {
      const drivesList = values.drives ?? env.OORT_DRIVES;
      const drives = drivesList ? drivesList.split(',').map((d) => d.trim()).filter(Boolean) : [join(dataDir, 'data')];
      const { keys } = await loadKeyRing(dataDir, env);
      const engine = await ShardEngine.open({ drives, segments: meta.segmentStore(), keys, background: false });
      try {
        const status = await engine.replaceDrive(positionals[2], positionals[3], (s) => {
          const eta = s.etaSeconds !== undefined ? `, ETA ${Math.ceil(s.etaSeconds)} s` : '';
          console.error(`rebuilt ${s.repairedSegments} segment(s), ${(s.repairedBytes / 2 ** 20).toFixed(1)} MiB; ${s.queuedSegments} queued${eta}`);
        });
        console.log(JSON.stringify(status, null, 2));
      } finally {
        await engine.close();
      }
      return 0;
    }
    throw new Error(MAINTENANCE_USAGE);
  } finally {
    await meta.close();
  }
}
