import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { endLater } from '../../src/http/end-later.ts';

/** GET on a keep-alive-less connection; resolves with status and body, or the socket error. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('endLater: responses end after the turn that queued them, every one whole; a gone client is skipped', async () => {
  const endedInTurn: boolean[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/gone') {
      // Queued, then its connection is cut before the flush: the flush must pass over it.
      res.writeHead(200, { 'content-length': 4 });
      endLater(res, Buffer.from('lost'));
      res.destroy();
      return;
    }
    const body = Buffer.from(`body of ${req.url}`);
    res.writeHead(201, { 'content-length': body.length, 'x-test': 'yes' });
    endLater(res, body);
    endedInTurn.push(res.writableEnded);
    held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const paths = Array.from({ length: 20 }, (_, i) => `/o${i}`);
    const answers = await Promise.all(paths.map((p) => get(port, p)));
    assert.deepEqual(answers, paths.map((p) => ({ status: 201, body: `body of ${p}` })));
    assert.deepEqual(endedInTurn, paths.map(() => false), 'no response ended in the turn that queued it');
    assert.ok(held.every((r) => r.writableEnded));
    await assert.rejects(get(port, '/gone'), 'the cut connection fails its client');
    assert.deepEqual(await get(port, '/after'), { status: 201, body: 'body of /after' }, 'and the server goes on');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('endLater: pipelined requests on one connection get their answers in order', async () => {
  const server = createServer((req, res) => {
    const body = Buffer.from(`answer to ${req.url}`);
    res.writeHead(200, { 'content-length': body.length });
    // The first request's answer is queued a turn later than the others': order must still hold.
    if (req.url === '/1') setImmediate(() => endLater(res, body));
    else endLater(res, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (got += d));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
      const get = (path: string, close = false) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
      socket.write(get('/1') + get('/2') + get('/3', true));
    });
    const bodies = raw.split('\r\n\r\n').slice(1).map((b) => b.split('HTTP/1.1')[0]);
    assert.deepEqual(bodies, ['answer to /1', 'answer to /2', 'answer to /3']);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
