// The admin console's Accounts tab in Chromium, against the real server:
// Ada signs in and opens /admin, creates an agent through the form (a
// wrong username first, whose message shows at the field), edits the
// agent's name and sets a new password; the agent signs in with it in
// another browser, has the desk open and takes a chat; Ada deactivates
// the agent: the desk is signed out at once (the sign-in page says who
// did it) and signing in again is refused, and the agent's chat in
// History still carries the agent's name. A supervisor
// opening /admin is sent to the supervisor console, where only admins see
// the Admin link. Who may call which route is proven by the Go tests
// (auth/accounts_test.go, cmd/parley/accounts_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, available, done, newPerson, saveQueue, say, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * Signs in on the sign-in page, where visiting path sent the person.
 * @param {import('playwright-core').Page} page
 * @param {string} path
 * @param {string} username
 * @param {string} password
 */
async function signInAt(page, path, username, password) {
  await page.goto(path);
  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('admin accounts', () => {
  test('an admin creates, edits, resets and deactivates an agent, who is signed out at once and keeps its name in History', () =>
    explain(server, async () => {
      // Ada signs in on the way to /admin and lands on the Accounts tab.
      const ada = await person();
      const admin = ada.page;
      await signInAt(admin, '/admin', 'ada', 'demo');
      await admin.waitForURL((url) => url.pathname === '/admin');
      const table = admin.getByRole('table', { name: 'Accounts' });
      await table.getByRole('row', { name: /Alice Agent/ }).waitFor();
      await waitForText(table.getByRole('row', { name: /Ada Admin/ }).locator('.acc-state'), 'Active');

      // A wrong username: the server's message shows at the field.
      const form = admin.getByRole('form', { name: 'New account' });
      await form.getByLabel('Username').fill('Zoe Q');
      await form.getByLabel('Name', { exact: true }).fill('Zoe Draft');
      await form.getByLabel('Role').selectOption('agent');
      await form.getByLabel('Password').fill('zoe-first');
      await form.getByRole('button', { name: 'Create account' }).click();
      const usernameError = admin.locator('#new-username-error');
      await waitForText(usernameError, "2–64 characters, each a-z, 0-9, '.', '_' or '-'.");
      assert.equal(await form.getByLabel('Username').getAttribute('aria-invalid'), 'true');
      assert.equal(await table.getByRole('row', { name: /Zoe Draft/ }).count(), 0, 'nothing was made');
      // Corrected, it is made and listed at once.
      await form.getByLabel('Username').fill('zoe');
      assert.ok(await usernameError.isHidden(), 'editing the field clears its error');
      await form.getByRole('button', { name: 'Create account' }).click();
      await waitForText(admin.locator('#accounts-status'), 'Created Zoe Draft (zoe), agent.');
      const zoeRow = table.locator('tr[data-username="zoe"]');
      await waitForText(zoeRow.locator('.acc-name'), 'Zoe Draft');
      await waitForText(zoeRow.locator('.acc-role'), 'Agent');
      await waitForText(zoeRow.locator('.acc-state'), 'Active');
      await waitForText(zoeRow.locator('.acc-last'), 'Never');
      assert.equal(await form.getByLabel('Username').inputValue(), '', 'the form is empty again');

      // Edit: her name.
      await zoeRow.getByRole('button', { name: 'Edit' }).click();
      let dialog = admin.getByRole('dialog', { name: 'Edit Zoe Draft' });
      await dialog.getByLabel('Name', { exact: true }).fill(' ');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await waitForText(dialog.locator('#edit-name-error'), '1–100 characters.');
      await dialog.getByLabel('Name', { exact: true }).fill('Zoe Agent');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(zoeRow.locator('.acc-name'), 'Zoe Agent');

      // Reset password: too short first, then a good one.
      await zoeRow.getByRole('button', { name: 'Reset password' }).click();
      dialog = admin.getByRole('dialog', { name: 'Reset the password of Zoe Agent' });
      await dialog.getByLabel('New password').fill('zz');
      await dialog.getByRole('button', { name: 'Set password' }).click();
      await waitForText(dialog.locator('#reset-password-error'), '4–72 bytes.');
      await dialog.getByLabel('New password').fill('zoe-second');
      await dialog.getByRole('button', { name: 'Set password' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(admin.locator('#accounts-status'), 'Zoe Agent has a new password and is signed out everywhere.');

      // Zoe, a member of the demo queue, signs in with the new password in
      // her own browser and has the desk open.
      await saveQueue(server, 'demo', { members: ['alice', 'bob', 'zoe'] });
      const zoe = await person();
      const desk = zoe.page;
      await signInAt(desk, '/desk', 'zoe', 'zoe-first');
      await waitForText(desk.locator('#login-error'), 'Wrong username or password.');
      await desk.getByLabel('Password').fill('zoe-second');
      await desk.getByRole('button', { name: 'Sign in' }).click();
      await desk.waitForURL((url) => url.pathname === '/desk');
      await available(zoe);
      await waitForText(desk.locator('#whoami .whoami-name'), 'Zoe Agent');

      // She takes a chat and closes it: her old chat.
      const quinn = await startDemoChat(await person(), 'Quinn Quokka', 'quinn@example.com');
      await accept(desk, 'Quinn Quokka');
      await say(desk, 'Zoe here, how can I help?');
      await quinn.widget.locator('#parley-transcript .msg-agent .bubble', { hasText: 'Zoe here' }).waitFor();
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const close = desk.getByRole('dialog');
      await close.getByLabel('Resolved').check();
      await close.getByRole('button', { name: 'Close chat' }).click();
      await close.waitFor({ state: 'hidden' });
      await done(quinn);

      // Ada's table, read again, shows that Zoe signed in.
      await admin.reload();
      await zoeRow.locator('.acc-last', { hasNotText: 'Never' }).waitFor();

      // Ada deactivates Zoe, after a confirm: Zoe's desk is signed out at
      // once, and the sign-in page says who did it.
      await zoeRow.getByRole('button', { name: 'Deactivate' }).click();
      dialog = admin.getByRole('dialog', { name: 'Deactivate Zoe Agent?' });
      await dialog.getByRole('button', { name: 'Deactivate' }).click();
      await dialog.waitFor({ state: 'detached' });
      await waitForText(zoeRow.locator('.acc-state'), 'Deactivated');
      await zoeRow.getByRole('button', { name: 'Reactivate' }).waitFor();
      await waitForText(admin.locator('#accounts-status'), 'Zoe Agent is deactivated and signed out everywhere.');
      await desk.waitForURL((url) => url.pathname === '/login', { timeout: 5_000 });
      await waitForText(desk.locator('#login-error'), 'Ada Admin deactivated your account.');
      // Signing in again is refused, as a wrong password is.
      await desk.getByLabel('Username').fill('zoe');
      await desk.getByLabel('Password').fill('zoe-second');
      await desk.getByRole('button', { name: 'Sign in' }).click();
      await waitForText(desk.locator('#login-error'), 'Wrong username or password.');
      assert.equal(new URL(desk.url()).pathname, '/login');
      // Ada cannot deactivate herself: her row has no such button.
      const adaRow = table.locator('tr[data-username="ada"]');
      assert.equal(await adaRow.getByRole('button', { name: 'Deactivate' }).count(), 0);

      // In the supervisor console, Ada has the Admin link.
      await admin.goto('/supervisor');
      await waitForText(admin.locator('#conn-state'), 'Connected');
      await admin.getByRole('link', { name: 'Admin' }).waitFor();

      // Sam, a supervisor, opening /admin is sent to /supervisor, which
      // has no Admin link for him; his History still names Zoe on her chat.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      const console_ = sam.page;
      await console_.goto('/admin');
      await console_.waitForURL((url) => url.pathname === '/supervisor');
      await waitForText(console_.locator('#conn-state'), 'Connected');
      assert.ok(await console_.locator('#admin-link').isHidden(), 'no Admin link for a supervisor');
      await console_.getByRole('button', { name: 'History' }).click();
      const history = console_.locator('#history');
      await history.getByRole('search').waitFor();
      await history.getByLabel('Contact').fill('quinn@example.com');
      await history.getByRole('button', { name: 'Search' }).click();
      const result = history.locator('.hist-result', { hasText: 'Quinn Quokka' });
      await result.waitFor();
      assert.match((await result.locator('.hist-result-meta').textContent()) ?? '', /Zoe Agent/, 'the result names the deactivated agent');
      await result.click();
      const transcript = history.getByRole('region', { name: 'Transcript' });
      await waitForText(transcript.locator('.hist-event', { hasText: 'Zoe here, how can I help?' }).locator('.hist-author'), 'Zoe Agent');
      await done(ada, zoe, sam);
    }));
});
