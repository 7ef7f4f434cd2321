// Verified identity (docs/protocol.md, "Verified identity"), in Chromium
// against the real server. A company's page, served by this test on an
// origin of its own, embeds the widget with data-identity="TOKEN", a token
// this test signs as the company's backend would (with the queue's secret,
// read through the admin REST). A good token: the customer's form is
// filled in and locked, and the agent sees the chat with the lock mark on
// the customer's name and e-mail (and none on an anonymous customer's),
// and so does the supervisor in the console's chat pane. A
// tampered token, an expired one, and no token on a verified-only queue:
// the widget shows the refusal, and no chat starts.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { explain, launchBrowser, startServer, startSite, waitForText, waitUntil } from './harness.mjs';
import { accept, newPerson, offerCard, openDesk } from './people.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {import('./harness.mjs').Site} the company's site */
let site;
/** the company's site's origin, e.g. http://127.0.0.1:41235 */
let siteOrigin = '';
/** @type {Map<string, string>} the site's pages by path */
const pages = new Map();

const KEY = 'shop';
const STRICT = 'members-only';
let secret = '';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  site = await startSite(pages);
  siteOrigin = site.origin;

  const admin = await login('ada');
  for (const [key, verifiedOnly] of [[KEY, false], [STRICT, true]]) {
    const res = await rest(admin, 'PUT', `/api/admin/queues/${key}`, {
      name: key === KEY ? 'Shop' : 'Members', members: ['alice'], allowed_origins: [siteOrigin],
      email_mode: 'optional', extra_label: 'Phone', extra_mode: 'optional', verified_only: verifiedOnly,
    });
    assert.equal(res.status, 200, `save ${key}: ${await res.text()}`);
  }
  const res = await rest(admin, 'GET', `/api/admin/queues/${KEY}/secret`);
  assert.equal(res.status, 200);
  secret = (await res.json()).secret;
  assert.match(secret, /^[0-9a-f]{64}$/);
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop(), site?.stop()]);
});

/**
 * @param {string} username
 * @returns {Promise<string>} a bearer token
 */
async function login(username) {
  const res = await fetch(`${server.url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'demo' }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

/**
 * @param {string} token
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
function rest(token, method, path, body) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * The token the company's backend makes: docs/protocol.md's Node example.
 * @param {string} queue
 * @param {{id: string, name?: string, email?: string}} customer
 * @param {number} [exp] Unix seconds; an hour from now unless given
 */
function identityToken(queue, customer, exp = Math.floor(Date.now() / 1000) + 3600) {
  const payload = Buffer.from(JSON.stringify({ queue, ...customer, exp })).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

/**
 * A page of the company's site with the widget of queue key and, when
 * given, the customer's identity token on the loader's tag.
 * @param {string} path
 * @param {string} key
 * @param {string} [token]
 */
function sitePage(path, key, token) {
  const identity = token === undefined ? '' : ` data-identity="${token}"`;
  pages.set(path, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>The shop</h1><script src="${server.url}/widget.js" data-queue="${key}"${identity}></script></body></html>`);
  return `${siteOrigin}${path}`;
}

/**
 * A customer on a page of the site, with the chat open and its form shown.
 * @param {string} url
 */
async function visit(url) {
  const person = await newPerson(browser, server);
  await person.page.goto(url);
  const widget = person.page.frameLocator('iframe[title="Chat"]');
  await widget.getByRole('button', { name: 'Open chat' }).click();
  await widget.locator('form#parley-prechat').waitFor();
  return { ...person, widget };
}

describe('verified identity', () => {
  test('a good signature shows the customer to the agent with the lock mark on name and e-mail', () =>
    explain(server, async () => {
      const alice = await newPerson(browser, server);
      await openDesk(alice, 'alice');

      const token = identityToken(KEY, { id: 'c-1042', name: 'Vera Verified', email: 'vera@example.com' });
      const vera = await visit(sitePage('/signed-in', KEY, token));
      // The form shows what was signed, locked.
      const name = vera.widget.getByLabel('Name');
      const email = vera.widget.getByLabel('E-mail');
      await waitForValue(name, 'Vera Verified');
      await waitForValue(email, 'vera@example.com');
      assert.equal(await name.getAttribute('readonly'), '', 'the signed name is read-only');
      assert.equal(await email.getAttribute('readonly'), '', 'the signed e-mail is read-only');
      await vera.widget.getByText('You’re signed in as Vera Verified').waitFor();
      await vera.widget.getByRole('button', { name: 'Start chat' }).click();
      await vera.widget.getByText("You're in the queue").waitFor();

      // An anonymous customer of the same queue, for comparison.
      const nora = await visit(sitePage('/anonymous', KEY));
      await nora.widget.getByLabel('Name').fill('Nora Nobody');
      await nora.widget.getByLabel('E-mail').fill('nora@example.com');
      await nora.widget.getByRole('button', { name: 'Start chat' }).click();
      await nora.widget.getByText("You're in the queue").waitFor();

      const desk = alice.page;
      const card = offerCard(desk, 'Vera Verified');
      await card.locator('.offer-name').getByRole('img', { name: 'verified' }).waitFor();
      await card.locator('.offer-email').getByRole('img', { name: 'verified' }).waitFor();
      await waitForText(card.locator('.offer-email'), 'vera@example.com');
      const other = offerCard(desk, 'Nora Nobody');
      await waitForText(other.locator('.offer-email'), 'nora@example.com');
      assert.equal(await other.getByRole('img', { name: 'verified' }).count(), 0, 'no lock on an anonymous customer');

      await accept(desk, 'Vera Verified');
      const veraId = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));
      await desk.locator('#chat-name').getByRole('img', { name: 'verified' }).waitFor();
      await desk.locator('#chat-email').getByRole('img', { name: 'verified' }).waitFor();
      await waitForText(desk.locator('#chat-email'), 'vera@example.com');
      assert.equal(await desk.locator('#chat-extra').getByRole('img', { name: 'verified' }).count(), 0);

      await accept(desk, 'Nora Nobody');
      await waitForText(desk.locator('#chat-email'), 'nora@example.com');
      assert.equal(await desk.locator('.chat-header').getByRole('img', { name: 'verified' }).count(), 0,
        'the anonymous customer\'s header has no lock');

      // The supervisor's chat pane says what was verified, with the lock.
      const sam = await newPerson(browser, server);
      const signedIn = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(signedIn.status(), 200, 'sam signs in');
      await sam.page.goto('/supervisor');
      await sam.page.locator(`#lists .sup-chip[data-conversation-id="${veraId}"]`).click();
      const fact = sam.page.locator('#chat-pane [data-fact="identity"]');
      await waitForText(fact, 'Verified: id c-1042, name, e-mail');
      await fact.getByRole('img', { name: 'verified' }).waitFor();
      // Paired at the start with the contact of her verified id.
      await waitForText(sam.page.locator('#chat-pane [data-fact="contact"]'), 'Vera Verified (by the verified id)');

      assert.deepEqual([...alice.errors, ...vera.errors, ...nora.errors, ...sam.errors].map(String), []);
      await Promise.all([alice.context.close(), vera.context.close(), nora.context.close(), sam.context.close()]);
    }));

  test('a customer who signs in without a page load is handed over when the page sets data-identity', () =>
    explain(server, async () => {
      const p = await visit(sitePage('/later', KEY));
      const name = p.widget.getByLabel('Name');
      assert.equal(await name.getAttribute('readonly'), null, 'anonymous: the name is the customer\'s to type');
      const token = identityToken(KEY, { id: 'c-77', name: 'Lena Later' });
      await p.page.evaluate((t) => {
        const tag = /** @type {HTMLScriptElement} */ (document.querySelector('script[data-queue]'));
        tag.dataset.identity = t;
      }, token);
      await waitForValue(name, 'Lena Later');
      assert.equal(await name.getAttribute('readonly'), '', 'the signed name is read-only');
      assert.equal(await p.widget.getByLabel('E-mail').getAttribute('readonly'), null, 'the e-mail was not signed');
      // Signed out again: the form is the customer's once more.
      await p.page.evaluate(() => document.querySelector('script[data-queue]')?.removeAttribute('data-identity'));
      await waitForValue(name, '');
      assert.equal(await name.getAttribute('readonly'), null);
      assert.deepEqual(p.errors.map(String), []);
      await p.context.close();
    }));

  for (const c of [
    {
      name: 'a tampered attribute is refused',
      path: '/tampered',
      key: KEY,
      token: () => {
        const [payload, sig] = identityToken(KEY, { id: 'c-1', name: 'Tom Tampered', email: 'tom@example.com' }).split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        claims.email = 'ceo@example.com';
        return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      },
      refusal: 'We could not confirm that you are signed in: the signature does not match. Reload the page and try again.',
    },
    {
      name: 'an expired signature is refused',
      path: '/expired',
      key: KEY,
      token: () => identityToken(KEY, { id: 'c-2', name: 'Eve Expired' }, Math.floor(Date.now() / 1000) - 3600),
      refusal: 'We could not confirm that you are signed in: the signature has expired. Reload the page and try again.',
    },
    {
      name: 'a verified-only queue refuses a customer without identity',
      path: '/members',
      key: STRICT,
      token: () => undefined,
      refusal: 'This chat is only for signed-in customers; sign in on the site and try again.',
    },
  ]) {
    test(c.name, () =>
      explain(server, async () => {
        const p = await visit(sitePage(c.path, c.key, c.token()));
        const name = p.widget.getByLabel('Name');
        if (!(await name.inputValue())) await name.fill('Anna Anonymous');
        await p.widget.getByRole('button', { name: 'Start chat' }).click();
        const alert = p.widget.locator('#parley-form-error');
        await waitForText(alert, c.refusal);
        assert.equal(await alert.getAttribute('role'), 'alert', 'the refusal is announced');
        assert.equal(await p.widget.locator('#parley-chat').isHidden(), true, 'no chat started');
        assert.deepEqual(p.errors.map(String), []);
        await p.context.close();
      }));
  }
});

/**
 * Waits until an input holds value.
 * @param {import('playwright-core').Locator} input
 * @param {string} value
 */
function waitForValue(input, value) {
  return waitUntil(async () => (await input.inputValue()) === value, `${input} to hold ${JSON.stringify(value)}`);
}
