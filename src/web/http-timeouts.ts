/**
 * How long a client may take to send a request (`limits.http`). fastify's own
 * requestTimeout and connectionTimeout are 0 (off) by default: a POST declaring 1 MB and
 * sending a byte every 5 s stayed open for as long as the client liked (issue 15).
 *
 *   headers      Node's headersTimeout, checked every second (Node's default check runs
 *                every 30 s, which would make a 20 s limit anything up to 50 s).
 *   body         from the end of the headers, the whole body within requestTimeoutSeconds;
 *                not Node's requestTimeout, which cannot tell routes apart.
 *   uploads      routes declaring `config.upload` (STOW-RS: gigabytes may take minutes)
 *                have no total time; each window of uploadRateWindowSeconds must bring at
 *                least uploadMinBytesPerSecond on average, so a stalled or trickling
 *                upload is cut and a steady one runs as long as it needs.
 *   keep-alive   an idle connection between requests is closed after keepAliveTimeoutSeconds.
 * A request cut gets a 408 problem (when no answer was started) and its connection is
 * closed. The limits are read per request, so a registry change applies to the next one
 * (the header and keep-alive timeouts: at once for new checks).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import type { EffectiveLimits } from '../config/index.js';

export type HttpLimits = EffectiveLimits['http'];

/** Options for http(s).createServer: Node's own timeouts; the body rules are ours (watchRequestBodies). */
export function serverTimeoutOptions(l: HttpLimits): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: l.headersTimeoutSeconds * 1000,
    // Node's whole-request timeout must be at least headersTimeout; ours (per route) does the body.
    requestTimeout: 0,
    keepAliveTimeout: l.keepAliveTimeoutSeconds * 1000,
    connectionsCheckingInterval: 1000,
  };
}

/** Applies changed header and keep-alive timeouts to a listening server. */
export function applyServerTimeouts(server: Server, l: HttpLimits): void {
  const o = serverTimeoutOptions(l);
  server.headersTimeout = o.headersTimeout;
  server.keepAliveTimeout = o.keepAliveTimeout;
  server.requestTimeout = o.requestTimeout;
}

const hasBody = (raw: IncomingMessage): boolean => raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;

/** Answers 408 (if nothing was answered yet) and closes the connection. */
function cut(req: FastifyRequest, reply: FastifyReply, detail: string): void {
  req.log.warn({ ip: req.ip, method: req.method, route: req.routeOptions.url, bytesRead: req.raw.socket.bytesRead }, detail);
  const socket = req.raw.socket;
  if (reply.raw.headersSent || reply.raw.writableEnded) {
    socket.destroy();
    return;
  }
  // Written on the raw response: fastify may still be waiting for the body, and must not answer as well.
  reply.hijack();
  const body = JSON.stringify({ type: 'urn:open-pacs:problem:request-timeout', title: 'Request Timeout', status: 408, detail });
  reply.raw.writeHead(408, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  reply.raw.end(body, () => socket.destroy());
  // A client that does not read its answer does not keep the socket either.
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** The body rules, as a root onRequest hook (it sees every request, routed or not). */
export function watchRequestBodies(app: FastifyInstance, limits: () => HttpLimits): void {
  app.addHook('onRequest', (req, reply, done) => {
    const raw = req.raw;
    if (raw.complete || !hasBody(raw)) return done();
    const l = limits();
    const socket = raw.socket;
    let timer: NodeJS.Timeout;
    const stop = () => clearTimeout(timer);
    if (req.routeOptions.config?.upload) {
      const windowMs = l.uploadRateWindowSeconds * 1000;
      const minBytes = l.uploadMinBytesPerSecond * l.uploadRateWindowSeconds;
      let last = socket.bytesRead;
      timer = setInterval(() => {
        if (raw.complete || socket.destroyed) return stop();
        const got = socket.bytesRead - last;
        last = socket.bytesRead;
        if (got < minBytes) {
          stop();
          cut(
            req,
            reply,
            `the upload brought ${got} bytes in ${l.uploadRateWindowSeconds} s, below the minimum transfer rate of ${l.uploadMinBytesPerSecond} bytes/s (limits.http.uploadMinBytesPerSecond)`,
          );
        }
      }, windowMs);
    } else {
      timer = setTimeout(() => {
        if (!raw.complete && !socket.destroyed)
          cut(req, reply, `the request body did not arrive within ${l.requestTimeoutSeconds} s (request timeout, limits.http.requestTimeoutSeconds)`);
      }, l.requestTimeoutSeconds * 1000);
    }
    timer.unref();
    raw.once('close', stop);
    done();
  });
}
