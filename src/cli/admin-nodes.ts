import type { AdminClient } from './admin-client.ts';
import { parseSize } from './node.ts';
import type { Redundancy } from '../engine/shard/segment-store.ts';

// `oort admin node ...` and `oort admin repair status|redundancy`: storage nodes through the admin API.

export const NODE_ADMIN_USAGE = `Storage nodes (gateway started with --cluster-secret-file):
  node add URL [--zone Z] [--capacity SIZE]         add a storage node (oort node) to the cluster
  node list [--json]                                 nodes and data directories: state, capacity, used, pieces, last seen, audit score, repair backlog
  node drain ID [--no-wait]                          move a node's pieces away (shows progress until it holds none)
  node remove ID                                     declare a node lost now: its pieces are rebuilt elsewhere
  repair status                                      repair backlog: bytes to go, rate, ETA
  repair redundancy [--json]                         segments by healthy pieces (scans every segment)`;

interface NodeRow {
  id: string;
  kind: string;
  address: string;
  zone?: string;
  state: string;
  capacityBytes?: number;
  freeBytes?: number;
  usedBytes?: number;
  pieces: number;
  pieceBytes: number;
  lastSeenAt?: string;
  auditScore: number;
  audits: number;
  repairBacklog: number;
  warning?: string;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function ago(iso: string | undefined): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function table(rows: NodeRow[]): string {
  const head = ['ID', 'KIND', 'ADDRESS', 'ZONE', 'STATE', 'CAPACITY', 'USED', 'PIECES', 'LAST SEEN', 'AUDIT', 'BACKLOG'];
  const body = rows.map((r) => [
    r.id, r.kind, r.address, r.zone ?? "-", r.state, bytes(r.capacityBytes),
    bytes(r.usedBytes ?? r.pieceBytes), String(r.pieces), ago(r.lastSeenAt), `${r.auditScore.toFixed(4)} (${r.audits})`, String(r.repairBacklog),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const warnings = rows.filter((r) => r.warning).map((r) => `warning: ${r.id}: ${r.warning}`);
  return [line(head), ...body.map(line), ...warnings].join('\n');
}

function formatRepair(r: { queuedSegments: number; queuedBytes: number; repairedBytes: number; rate: number; etaSeconds?: number }): string {
  const eta = r.etaSeconds === undefined ? (r.queuedSegments === 0 ? 'idle' : 'unknown') : `${Math.ceil(r.etaSeconds)} s`;
  return `${r.queuedSegments} segment(s), ${bytes(r.queuedBytes)} to go; ${bytes(r.rate)}/s; ETA ${eta}; ${bytes(r.repairedBytes)} rebuilt since start`;
}

/** Runs a node/repair admin command; undefined when `words` is not one. */
export async function runNodeAdmin(client: AdminClient, words: string[], values: Record<string, string | boolean | undefined>): Promise<number | undefined> {
  const [noun, verb, arg] = words;
  if (noun !== 'node' && noun !== 'repair') return undefined;
  const fail = (res: { status: number; body: unknown }) => {
    console.error(typeof res.body === 'string' ? res.body : JSON.stringify(res.body, null, 2));
    return 1;
  };
  const need = () => {
    if (!arg) throw new Error(`${noun} ${verb} needs a node id`);
    return encodeURIComponent(arg);
  };
  switch (`${noun} ${verb}`) {
    case 'node add': {
      if (!arg) throw new Error('node add needs the node URL');
      const body: Record<string, unknown> = { url: arg };
      if (typeof values.zone === 'string') body.zone = values.zone;
      if (typeof values.capacity === 'string') body.capacityBytes = parseSize(values.capacity);
      const res = await client.call('POST', 'nodes', body);
      if (res.status !== 201) return fail(res);
      const b = res.body as { node: NodeRow; profile: { k: number; m: number } };
      console.log(`added node ${b.node.id} (${b.node.address}); new segments use ${b.profile.k}+${b.profile.m}`);
      return 0;
    }
    case 'node list': {
      const res = await client.call('GET', 'nodes');
      if (res.status !== 200) return fail(res);
      const b = res.body as { nodes: NodeRow[]; profile: { k: number; m: number } };
      console.log(values.json ? JSON.stringify(b, null, 2) : `${table(b.nodes)}\nprofile of new segments: ${b.profile.k}+${b.profile.m}`);
      return 0;
    }
    case 'node drain': {
      const id = need();
      const res = await client.call('POST', `nodes/${id}/drain`);
      if (res.status !== 200) return fail(res);
      let node = (res.body as { node: NodeRow }).node;
      console.log(`draining ${node.id}: ${node.pieces} piece(s) to move`);
      if (values['no-wait']) return 0;
      const start = node.pieces;
      while (node.pieces > 0) {
        await new Promise((r) => setTimeout(r, 2000));
        const now = await client.call('GET', `nodes/${id}`);
        if (now.status !== 200) return fail(now);
        node = (now.body as { node: NodeRow }).node;
        const repair = await client.call('GET', 'repair');
        const r = (repair.body as { repair: Parameters<typeof formatRepair>[0] }).repair;
        console.log(`${start - node.pieces}/${start} piece(s) moved; repair: ${formatRepair(r)}`);
      }
      console.log(`${node.id} holds no pieces: stop it, then 'oort admin node remove ${node.id}'`);
      return 0;
    }
    case 'node remove': {
      const res = await client.call('DELETE', `nodes/${need()}`);
      if (res.status !== 200) return fail(res);
      const node = (res.body as { node: NodeRow }).node;
      console.log(`${node.id} declared lost; its pieces are being rebuilt elsewhere (oort admin repair status)`);
      return 0;
    }
    case 'repair status': {
      const res = await client.call('GET', 'repair');
      if (res.status !== 200) return fail(res);
      const r = (res.body as { repair: Parameters<typeof formatRepair>[0] }).repair;
      console.log(values.json ? JSON.stringify(r, null, 2) : formatRepair(r));
      return 0;
    }
    case 'repair redundancy': {
      const res = await client.call('GET', 'redundancy');
      if (res.status !== 200) return fail(res);
      const r = (res.body as { redundancy: Redundancy }).redundancy;
      if (values.json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`${r.segments} segment(s): ${r.full} with every piece healthy; ${r.piecesOnUnusableDomains} piece(s) on nodes that are not online`);
        for (const d of r.degraded) console.log(`  ${d.segments} segment(s) with ${d.healthy} of ${d.pieces} pieces healthy`);
      }
      return 0;
    }
    default:
      throw new Error(`unknown admin command: ${words.join(' ')}\n\n${NODE_ADMIN_USAGE}`);
  }
}
