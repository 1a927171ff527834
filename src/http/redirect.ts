import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The plain-HTTP listener of an HTTPS-only server: every request is sent to the same URL on
 * HTTPS, 301 for GET/HEAD and 307 otherwise (so clients keep the method and body). Nothing is
 * served and no body is read.
 */
export function redirectToHttps(httpsPort: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '').replace(/[^A-Za-z0-9.\-[\]:]/g, '');
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    const location = `https://${host}${port}${req.url ?? '/'}`;
    const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 307;
    res.writeHead(status, { location, 'content-length': 0, connection: 'close' });
    res.end();
  };
}
