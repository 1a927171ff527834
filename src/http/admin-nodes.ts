import type { Readable } from 'node:stream';
import { NodeAdminError, type ShardEngine } from '../engine/shard/index.ts';
import type { JsonResponse } from './admin-api.ts';

// Admin API for storage nodes and repair (under /_oort/admin/v1/):
//   GET nodes                 every failure domain: state, capacity, usage, pieces, last seen, audit score, backlog
//   POST nodes {url, zone?, capacityBytes?}   add a storage node
//   GET nodes/ID              one of them
//   POST nodes/ID/drain       move its pieces away (progress: its piece count in GET nodes/ID)
//   DELETE nodes/ID           declare it lost now (its pieces are rebuilt elsewhere)
//   GET repair                repair queue: bytes to go, rate, ETA
//   GET redundancy            segments by healthy pieces, pieces left on unusable nodes (scans every segment)

const STATUS: Record<NodeAdminError['code'], number> = { NotFound: 404, Conflict: 409, Invalid: 400, Unavailable: 503 };

export async function nodeAdminRoute(
  engine: ShardEngine,
  method: string,
  parts: string[],
  readJson: (body: Readable) => Promise<Record<string, unknown>>,
  body: Readable,
): Promise<JsonResponse | undefined> {
  const [collection, id, action] = parts;
  if (collection !== 'nodes' && collection !== 'repair' && collection !== 'redundancy') return undefined;
  const route = `${method} ${collection}${id !== undefined ? '/:id' : ''}${action !== undefined ? `/${action}` : ''}`;
  try {
    switch (route) {
      case 'GET nodes':
        return { status: 200, body: { profile: engine.ctx.profile, nodes: await engine.listNodes() } };
      case 'POST nodes': {
        const input = await readJson(body);
        const url = input.url;
        const zone = input.zone;
        const capacity = input.capacityBytes;
        if (typeof url !== 'string') throw new NodeAdminError('Invalid', 'url is required');
        if (zone !== undefined && zone !== null && typeof zone !== 'string') throw new NodeAdminError('Invalid', 'zone must be a string');
        if (capacity !== undefined && capacity !== null && !(typeof capacity === 'number' && Number.isFinite(capacity) && capacity > 0)) {
          throw new NodeAdminError('Invalid', 'capacityBytes must be a positive number');
        }
        const node = await engine.addNode(url, { zone: zone ?? undefined, capacityBytes: (capacity as number | null | undefined) ?? undefined });
        return { status: 201, body: { node, profile: engine.ctx.profile } };
      }
      case 'GET nodes/:id': {
        const node = await engine.nodeStatus(id!);
        if (!node) throw new NodeAdminError('NotFound', `no storage node ${id}`);
        return { status: 200, body: { node } };
      }
      case 'POST nodes/:id/drain':
        return { status: 200, body: { node: await engine.drainNode(id!) } };
      case 'DELETE nodes/:id':
        return { status: 200, body: { node: await engine.removeNode(id!) } };
      case 'GET repair':
        return { status: 200, body: { repair: await engine.repairStatus() } };
      case 'GET redundancy':
        return { status: 200, body: { redundancy: await engine.redundancy() } };
      default:
        return { status: 404, body: { error: { code: 'NotFound', message: `no such endpoint: ${method} ${parts.join('/')}` } } };
    }
  } catch (err) {
    if (err instanceof NodeAdminError) return { status: STATUS[err.code], body: { error: { code: err.code, message: err.message } } };
    throw err;
  }
}
