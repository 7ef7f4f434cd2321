// The admin console's Queues tab, as an admin uses it: a new queue with a
// new agent as its member, hours, a colour and a title, saved; a wrong
// value shown at its field; the embed snippet copied into a company's
// page, through which a customer chats with the new agent; the preview
// matching the saved widget; the change log naming the admin.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, say } from './people.mjs';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** the company's page: the snippet the admin copied, once there is one */
let snippet = '';
/** @type {import('node:http').Server} */
let site;
let siteOrigin = '';

before(async () => {
  [server, browser] = await startServerAndBrowser();
  site = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Shop</h1>\n${snippet}\n</body></html>`);
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = site.address();
  assert.ok(addr && typeof addr === 'object');
  // Another origin than Parley's (127.0.0.1): localhost and its own port.
  siteOrigin = `http://localhost:${addr.port}`;
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop(), new Promise((resolve) => site?.close(() => resolve(undefined)))]);
});

/**
 * The header's colour and title of a widget frame.
 * @param {import('playwright-core').FrameLocator} frame
 */
async function header(frame) {
  const title = (await frame.locator('#parley-title').textContent())?.trim();
  const color = await frame.locator('.header').evaluate((h) => getComputedStyle(h).backgroundColor);
  return { title, color };
}

test('an admin sets up a queue in the console and a customer chats through its embed snippet', async () => {
  await explain(server, async () => {
    const admin = await newPerson(browser, server, { permissions: ['clipboard-read', 'clipboard-write'], viewport: { width: 1400, height: 900 } });
    const agent = await newPerson(browser, server);
    const customer = await newPerson(browser, server);
    const page = admin.page;
    // What the preview frame asks of the server: its page and files, never
    // a queue's settings, a visitor token or a connection.
    /** @type {string[]} */
    const previewAsked = [];
    page.on('request', (r) => {
      if (r.frame().url().includes('/admin/widget-preview')) previewAsked.push(new URL(r.url()).pathname);
    });
    page.on('websocket', (ws) => previewAsked.push(`websocket ${ws.url()}`));

    // The admin signs in and creates an agent in the Accounts tab, in a
    // browser tab of its own.
    assert.equal((await admin.context.request.post('/api/login', { data: { username: 'ada', password: 'demo' } })).status(), 200);
    const accounts = await admin.context.newPage();
    await accounts.goto('/admin#accounts');
    const account = accounts.getByRole('form', { name: 'New account' });
    await account.getByLabel('Username').fill('carol-q');
    await account.getByLabel('Name', { exact: true }).fill('Carol Queue');
    await account.getByLabel('Role').selectOption('agent');
    await account.getByLabel('Password').fill('demo');
    await account.getByRole('button', { name: 'Create account' }).click();
    await waitForText(accounts.locator('#accounts-status'), 'Created Carol Queue (carol-q), agent.');
    await accounts.close();

    await page.goto('/admin#queues');
    await page.getByRole('button', { name: 'New queue' }).click();
    await waitForText(page.locator('#q-page-title'), 'New queue');
    await page.getByLabel('Name', { exact: true }).fill('Support EU');
    // A new queue may not take an existing queue's key (a save would replace that queue).
    await page.getByLabel('Key', { exact: true }).fill('demo');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('#q-key-error'), 'the queue “Sales” has this key');
    await page.getByLabel('Key', { exact: true }).fill('support-eu');
    await page.getByLabel('Title', { exact: true }).fill('Talk to Support');
    await page.getByLabel('Colour').fill('#aa3300');
    await page.locator('#q-dirty').waitFor(); // "Unsaved changes"

    // The preview follows the edits before anything is saved.
    const preview = page.frameLocator('#q-preview');
    await waitForText(preview.locator('#parley-title'), 'Talk to Support');
    await page.waitForFunction(() => {
      const f = /** @type {HTMLIFrameElement | null} */ (document.querySelector('#q-preview'));
      const h = f?.contentDocument?.querySelector('.header');
      return h && getComputedStyle(h).backgroundColor === 'rgb(170, 51, 0)';
    });
    await preview.locator('#parley-prechat').waitFor();

    // The new agent, picked from the list.
    await page.getByLabel('Search members').fill('Carol');
    await page.getByRole('checkbox', { name: /Carol Queue/ }).check();

    // Open every day, all day, in UTC: open now.
    await page.getByLabel('Time zone').selectOption('UTC');
    await page.getByLabel('Always open (no opening hours)').uncheck();
    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
      const from = page.getByLabel(`${day} from`, { exact: true });
      if ((await from.count()) === 0) await page.getByRole('button', { name: `Add hours on ${day}` }).click();
      await from.fill('00:00');
      await page.getByLabel(`${day} to`, { exact: true }).fill('24:00');
    }

    // The company's site may embed it.
    await page.getByRole('button', { name: 'Add allowed site' }).click();
    await page.getByLabel('Allowed site 1', { exact: true }).fill(siteOrigin);

    // A wrong value: the server's message at its field, which has the focus.
    await page.getByLabel('Amber from, seconds').fill('600');
    await page.getByLabel('Red from, seconds').fill('300');
    await page.getByLabel('Over from, seconds (optional)').fill('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('#q-chat_time_limits-error'), 'each longer than the one before');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q-chat_time_limits', 'the field the message names has the focus');
    await waitForText(page.locator('#q-status'), 'Not saved: chat_time_limits: each longer than the one before');
    assert.equal(await page.locator('#q-chat_time_limits').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Amber from, seconds').fill('300');
    await page.getByLabel('Red from, seconds').fill('600');
    // Another: a span that ends before it starts, shown at the hours, on its day.
    await page.getByLabel('Monday to', { exact: true }).fill('00:00');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('#q-hours-error'), 'mon: 00:00–00:00 ends before it starts');
    await page.locator('#q-chat_time_limits-error').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Monday from', 'Monday’s hours have the focus');
    await page.getByLabel('Monday to', { exact: true }).fill('24:00');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('#q-status'), 'Saved');
    await page.locator('#q-dirty').waitFor({ state: 'hidden' });
    await page.locator('#q-chat_time_limits-error').waitFor({ state: 'hidden' });

    // The embed snippet, copied.
    const embed = page.getByRole('region', { name: 'Embed' });
    await embed.getByRole('button', { name: 'Copy' }).click();
    await waitForText(embed.getByRole('status'), 'Copied');
    snippet = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(snippet, `<script src="${server.url}/widget.js" data-queue="support-eu" async></script>`);

    // The new agent signs in; the customer chats on the company's page.
    await openDesk(agent, 'carol-q');
    await customer.page.goto(`${siteOrigin}/`);
    const widget = customer.page.frameLocator('iframe[title="Chat"]');
    await widget.getByRole('button', { name: 'Open chat' }).click();
    await widget.getByLabel('Name').fill('Mia Shopper');
    await widget.getByRole('button', { name: 'Start chat' }).click();
    await widget.locator('#parley-transcript').waitFor();
    await accept(agent.page, 'Mia Shopper');
    await say(agent.page, 'Hello Mia, Carol here.');
    await widget.locator('#parley-transcript .msg-agent .bubble', { hasText: 'Hello Mia, Carol here.' }).waitFor();

    // The preview shows what the saved widget shows.
    await page.getByLabel('Show', { exact: true }).selectOption('open');
    const real = await header(widget);
    assert.deepEqual(real, { title: 'Talk to Support', color: 'rgb(170, 51, 0)' });
    assert.deepEqual(await header(preview), real, 'the preview matches the saved widget');

    // One more change; the change log lists both saves with the admin's name.
    await page.getByLabel('Title', { exact: true }).fill('Talk to Support EU');
    await page.getByRole('button', { name: 'Add status' }).click();
    await page.getByLabel('Status 2', { exact: true }).fill('Follow-up');
    await page.getByRole('button', { name: 'Move status 2 up' }).click();
    await page.getByRole('button', { name: 'Add holiday' }).click();
    await page.getByLabel('Holiday 1 date').fill('2030-12-24');
    await page.getByLabel('Holiday 1 name').fill('Christmas Eve');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('#q-status'), 'Saved');
    const rows = page.locator('#q-changes tbody tr');
    await waitForText(rows.first().locator('[data-field="title"]'), 'title: “Talk to Support” → “Talk to Support EU”');
    await waitForText(rows.first().locator('[data-field="statuses"]'), 'statuses: “Resolved” → “Follow-up”, “Resolved”');
    await waitForText(rows.first().locator('[data-field="holidays"]'), 'holidays: (none) → 2030-12-24 Christmas Eve');
    assert.equal(await rows.count(), 2);
    assert.equal((await rows.first().locator('.qc-who').textContent())?.trim(), 'Ada Admin');
    const first = rows.nth(1);
    await first.getByText('Created the queue', { exact: true }).waitFor();
    await first.getByText('Members added: carol-q', { exact: true }).waitFor();
    assert.equal((await first.locator('.qc-who').textContent())?.trim(), 'Ada Admin');

    // The offline state shows in the preview as the admin edits; leaving
    // with the edit unsaved asks first, and leaving drops it.
    await page.getByLabel('Show', { exact: true }).selectOption('now');
    await page.getByRole('checkbox', { name: /Disabled: out of service/ }).check();
    await waitForText(preview.locator('#parley-offline-message'), "We're away right now. Leave us a message and we'll get back to you.");
    assert.equal(await preview.locator('#parley-prechat').isHidden(), true, 'no pre-chat form while closed');
    await page.locator('#q-dirty').waitFor();
    await page.getByRole('button', { name: '← All queues' }).click();
    const ask = page.getByRole('dialog', { name: 'Unsaved changes' });
    await ask.getByRole('button', { name: 'Stay' }).click();
    await ask.waitFor({ state: 'hidden' });
    assert.equal(await page.getByRole('checkbox', { name: /Disabled: out of service/ }).isChecked(), true, 'staying keeps the edit');
    await page.getByRole('button', { name: '← All queues' }).click();
    await ask.getByRole('button', { name: 'Leave without saving' }).click();
    const listed = page.locator('#q-list tr[data-key="support-eu"]');
    await waitForText(listed.locator('td').nth(0), 'Support EU');
    await waitForText(listed.locator('td').nth(2), '1');
    await waitForText(listed.locator('td').nth(3), 'Open');
    await waitForText(listed.locator('td').nth(4), '—');

    assert.ok(previewAsked.length > 0, 'the preview frame was seen loading');
    assert.deepEqual(previewAsked.filter((p) => !p.startsWith('/static/') && p !== '/admin/widget-preview'), [],
      'the preview asked for nothing but its page and files');

    await done(admin, agent, customer);
  });
});
