// A load balancer for the browser tests of several nodes, as small as one
// can be: it forwards each HTTP request and each websocket upgrade to the
// next live node, round robin, over node:http and node:net. A page served
// through it reaches whichever node is up, as it would behind a real one;
// a node the test takes out (before draining it) gets nothing new.

import { createServer, request } from 'node:http';
import { connect } from 'node:net';

/**
 * @typedef {object} Balancer
 * @property {string} url http://127.0.0.1:port
 * @property {(url: string) => void} remove sends nothing new to this node
 *   (what a real balancer's health check does for a draining node)
 * @property {(url: string) => number} websockets how many websockets through
 *   the balancer are open to this node now
 * @property {() => Promise<void>} stop closes the balancer and every
 *   connection through it
 */

/**
 * Starts a balancer over the nodes' base URLs (http://127.0.0.1:port).
 * A request to a node that refuses the connection goes to the next one.
 * @param {string[]} nodes
 * @returns {Promise<Balancer>}
 */
export async function startBalancer(nodes) {
  const live = [...nodes];
  let turn = 0;
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Map<string, number>} open websockets by node */
  const open = new Map();

  /**
   * The live nodes from the next one round robin, each once.
   * @returns {URL[]}
   */
  const order = () => {
    const start = turn++;
    return live.map((_, k) => new URL(live[(start + k) % live.length]));
  };

  const server = createServer((req, res) => {
    const targets = order();
    const attempt = () => {
      const node = targets.shift();
      if (!node) {
        res.writeHead(502).end('no node answers');
        return;
      }
      const up = request({
        host: node.hostname, port: node.port, method: req.method, path: req.url, headers: req.headers,
      }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      // Only a refused connection is tried elsewhere: the body is not
      // replayed once a node has started on it.
      up.on('error', (err) => {
        if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ECONNREFUSED' && !res.headersSent) attempt();
        else res.destroy();
      });
      req.pipe(up);
    };
    attempt();
  });

  // A websocket: the upgrade request as it came, then bytes both ways.
  server.on('upgrade', (req, client, head) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const targets = order();
    const attempt = () => {
      const node = targets.shift();
      if (!node) {
        client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
        return;
      }
      let connected = false;
      const up = connect(Number(node.port), node.hostname, () => {
        connected = true;
        sockets.add(up);
        open.set(node.origin, (open.get(node.origin) ?? 0) + 1);
        let lines = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
        up.write(`${lines}\r\n`);
        if (head.length) up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('close', () => {
        if (!connected) return; // refused: the next node is being tried
        sockets.delete(up);
        open.set(node.origin, (open.get(node.origin) ?? 1) - 1);
        client.destroy();
      });
      up.on('error', (err) => {
        if (!connected && /** @type {NodeJS.ErrnoException} */ (err).code === 'ECONNREFUSED') attempt();
        else client.destroy();
      });
      client.on('close', () => up.destroy());
    };
    attempt();
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    remove: (url) => {
      const i = live.indexOf(url);
      if (i >= 0) live.splice(i, 1);
    },
    websockets: (url) => open.get(new URL(url).origin) ?? 0,
    stop: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
