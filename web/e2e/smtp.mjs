// A tiny SMTP server for the browser tests that read what Parley mails
// (offline, timers, tickets, supervisor-tickets): it accepts every message and keeps
// it, and decodes a mail's body and headers.

import { createServer } from 'node:net';

/**
 * @typedef {{from: string, to: string[], data: string}} Mail
 * @typedef {{port: number, mails: Mail[], refuse: string, close: () => Promise<void>}} SMTPServer
 */

/**
 * What startServer's env takes for the server to send its mail to smtp:
 * plain SMTP on 127.0.0.1, from desk@example.com.
 * @param {SMTPServer} smtp
 * @returns {Record<string, string>}
 */
export function mailEnv(smtp) {
  return {
    PARLEY_SMTP_HOST: '127.0.0.1',
    PARLEY_SMTP_PORT: String(smtp.port),
    PARLEY_SMTP_TLS: 'none',
    PARLEY_MAIL_FROM: 'desk@example.com',
  };
}

/**
 * A tiny SMTP server on 127.0.0.1 that accepts every message (plain text,
 * no authentication) and keeps it; while its refuse is set, it answers
 * each message's data with that reply instead.
 * @returns {Promise<SMTPServer>}
 */
export async function startSMTP() {
  /** @type {Mail[]} */
  const mails = [];
  /** @type {SMTPServer} */
  const out = { port: 0, mails, refuse: '', close: async () => {} };
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let inData = false;
    /** @type {Mail} */
    let mail = { from: '', to: [], data: '' };
    const say = (/** @type {string} */ line) => sock.write(`${line}\r\n`);
    say('220 localhost ESMTP test');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mail.data = buf.slice(0, end).replace(/^\.\./gm, '.');
          buf = buf.slice(end + 5);
          inData = false;
          if (out.refuse) say(out.refuse);
          else {
            mails.push(mail);
            say('250 2.0.0 OK queued');
          }
          mail = { from: '', to: [], data: '' };
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-localhost\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO') say('250 localhost');
        else if (verb === 'MAIL') {
          mail.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          say('250 2.1.0 OK');
        } else if (verb === 'RCPT') {
          mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          say('250 2.1.5 OK');
        } else if (verb === 'DATA') {
          inData = true;
          say('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          say('221 2.0.0 Bye');
          sock.end();
        } else say('250 OK'); // RSET, NOOP
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('the SMTP server has no port');
  out.port = addr.port;
  out.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return out;
}

/**
 * A mail's body as text: quoted-printable soft breaks and escapes undone.
 * @param {string} data
 */
export function bodyText(data) {
  const body = data.slice(data.indexOf('\r\n\r\n') + 4);
  return body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * A mail's header, unfolded.
 * @param {string} data
 * @param {string} name
 */
export function header(data, name) {
  const head = data.slice(0, data.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

