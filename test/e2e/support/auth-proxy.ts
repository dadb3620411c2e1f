import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A gateway as teams put in front of Tempo, Loki or Mimir: TLS, a bearer token, then the backend. */
export interface AuthProxy {
  url: string;
  /** Requests that carried the token (forwarded) and that did not (answered 401). */
  forwarded: number;
  refused: number;
  close(): Promise<void>;
}

/** An https reverse proxy on 127.0.0.1 to `target` (http://host:port) that wants `authorization: Bearer <token>`. */
export async function authProxy(target: string, tls: { cert: string; key: string }, token: string): Promise<AuthProxy> {
  const upstream = new URL(target);
  const state = { forwarded: 0, refused: 0 };
  const server: Server = createServer(tls, (req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      state.refused++;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized');
      return;
    }
    state.forwarded++;
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const out = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get forwarded() {
      return state.forwarded;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
