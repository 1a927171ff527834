import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { doc, el } from '../s3/index.ts';
import { nextRequestId } from './request-id.ts';

/**
 * Requests Node's HTTP parser rejects (garbage, conflicting lengths, oversized headers) still get
 * an S3 error document with a request id, then the connection closes. If a response to an
 * earlier request on the socket is still being written, it is finished first.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (inFlight && !inFlight.req.complete) {
    // The client ended (or garbled) the body of the request being served: nothing sensible can
    // be answered on this connection, and closing it fails that request's body stream.
    socket.destroy();
    return;
  }
  if (inFlight && !inFlight.writableFinished) {
    inFlight.once('finish', () => socket.end());
    inFlight.once('close', () => socket.destroy());
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const code = tooLarge ? 'RequestHeaderSectionTooLarge' : timeout ? 'RequestTimeout' : 'BadRequest';
  const message = tooLarge
    ? 'Your request header section exceeds the maximum allowed size.'
    : timeout
      ? 'Your socket connection to the server was not read from or written to within the timeout period.'
      : 'The request could not be parsed as HTTP.';
  const requestId = nextRequestId();
  const body = Buffer.from(
    doc('Error', `${el('Code', code)}${el('Message', message)}${el('RequestId', requestId)}`).replace(' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"', ''),
  );
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\n` +
      `x-amz-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body.toString('utf8')}`,
  );
}
