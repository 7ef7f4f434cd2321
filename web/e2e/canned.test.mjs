// Canned responses in Chromium, against the real server (docs/protocol.md,
// "Canned responses"): Ada adds two to the demo queue in the console (a
// too-long title first, refused at the field), moves one up and deletes a
// third after confirming. Alice, a member of the demo queue, types "/ref"
// in a chat's reply, picks "Refund policy" with Enter, edits a word and
// sends; the customer sees the edited text. The Canned button with its
// search box inserts the other. Bob, an agent of another queue only, finds
// none in his chat. Who may read and write them is proven by the Go tests
// (chat/queues/canned_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, saveQueue, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const REFUND = 'You can return any order within 30 days for a full refund.';
const SHIPPING = 'Orders ship within two working days.';

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await startServerAndBrowser();
  // Alice alone takes the demo queue's chats; Bob only those of Support.
  await saveQueue(server, 'demo', { members: ['alice'] });
  await saveQueue(server, 'canned-support', { name: 'Support', members: ['bob'] });
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * The titles of the console's list, in order.
 * @param {import('playwright-core').Page} page
 */
const consoleTitles = (page) => page.locator('#q-canned-list .qcanned-title').allTextContents();

describe('canned responses', () => {
  test('the admin adds them in the console; the agent inserts one by / and one by the menu, edits and sends; another queue’s agent sees none', () =>
    explain(server, async () => {
      // Ada, in the console, on the demo queue's page.
      const ada = await newPerson(browser, server, { timeout: TIMEOUT, viewport: { width: 1400, height: 900 } });
      assert.equal((await ada.context.request.post('/api/login', { data: { username: 'ada', password: 'demo' } })).status(), 200);
      const page = ada.page;
      await page.goto('/admin#queues');
      await page.locator('#q-list tr[data-key="demo"]').getByRole('button', { name: 'Sales' }).click();
      await waitForText(page.locator('#q-page-title'), 'Sales');
      const section = page.getByRole('region', { name: 'Canned responses' });
      await section.getByText(/Each change here is saved at once, apart from the queue’s Save/).waitFor();

      // A title too long: the server's message at the field.
      await section.getByRole('button', { name: 'Add canned response' }).click();
      await section.getByLabel(/^Title/).fill('R'.repeat(101));
      await section.getByLabel('Text the agent inserts').fill(REFUND);
      await section.getByRole('button', { name: 'Save response' }).click();
      await waitForText(page.locator('#q-canned-title-error'), 'title: 1–100 characters');
      assert.equal(await section.getByLabel(/^Title/).getAttribute('aria-invalid'), 'true', 'the title is marked wrong');
      assert.ok(await section.getByLabel(/^Title/).evaluate((e) => e === document.activeElement), 'the title has the focus');

      await section.getByLabel(/^Title/).fill('Refund policy');
      await section.getByRole('button', { name: 'Save response' }).click();
      await waitForText(page.locator('#q-canned-status'), 'Added “Refund policy”.');
      for (const [title, text] of [
        ['Shipping times', SHIPPING],
        ['Old greeting', 'Hello there.'],
      ]) {
        await section.getByRole('button', { name: 'Add canned response' }).click();
        await section.getByLabel(/^Title/).fill(title);
        await section.getByLabel('Text the agent inserts').fill(text);
        await section.getByRole('button', { name: 'Save response' }).click();
        await waitForText(page.locator('#q-canned-status'), `Added “${title}”.`);
      }
      assert.deepEqual(await consoleTitles(page), ['Refund policy', 'Shipping times', 'Old greeting']);
      // Shipping times up; Old greeting deleted after confirming. Nothing
      // of it waits for the queue's Save.
      await section.getByRole('button', { name: 'Move “Shipping times” up' }).click();
      await waitForText(page.locator('#q-canned-status'), 'Moved “Shipping times” to place 1.');
      assert.deepEqual(await consoleTitles(page), ['Shipping times', 'Refund policy', 'Old greeting']);
      await section.getByRole('button', { name: 'Delete “Old greeting”' }).click();
      await section.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete' }).click();
      await waitForText(page.locator('#q-canned-status'), 'Deleted “Old greeting”.');
      assert.deepEqual(await consoleTitles(page), ['Shipping times', 'Refund policy']);
      assert.equal(await page.locator('#q-dirty').isVisible(), false, 'the queue has no unsaved changes');
      await page.reload();
      await page.locator('#q-list tr[data-key="demo"]').getByRole('button', { name: 'Sales' }).click();
      await page.locator('#q-canned-list li').nth(1).waitFor();
      assert.deepEqual(await consoleTitles(page), ['Shipping times', 'Refund policy'], 'kept after a reload');

      // Alice, in a chat with Vera, types "/ref".
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Canned');
      await accept(desk, 'Vera Canned');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      const compose = desk.locator('#compose');
      await compose.click();
      await compose.pressSequentially('/ref');
      const menu = desk.locator('#canned-menu');
      await menu.getByRole('option', { name: /Refund policy/ }).waitFor();
      assert.deepEqual(await menu.getByRole('option').locator('.canned-title').allTextContents(), ['Refund policy'], '"/ref" finds the refund policy only');
      assert.equal(await menu.locator('#canned-search').isVisible(), false, 'the reply is the search');
      await compose.press('Enter');
      await menu.waitFor({ state: 'hidden' });
      assert.equal(await compose.inputValue(), REFUND, 'the text replaces "/ref", not sent yet');
      assert.equal(await vera.widget.getByText(REFUND).count(), 0, 'nothing sent by Enter on the list');
      // Alice edits a word, then sends.
      const edited = REFUND.replace('30 days', '45 days');
      await compose.press('Control+A');
      await compose.pressSequentially(edited);
      await compose.press('Enter');
      await vera.widget.getByText(edited).waitFor();
      assert.equal(await vera.widget.getByText(REFUND).count(), 0, 'the customer sees the edited text only');

      // Escape closes a "/" list and keeps what was typed.
      await compose.pressSequentially('/ship');
      await menu.getByRole('option', { name: /Shipping times/ }).waitFor();
      await compose.press('Escape');
      await menu.waitFor({ state: 'hidden' });
      assert.equal(await compose.inputValue(), '/ship');
      await compose.fill('');

      // The Canned button: the search box, a click inserts.
      await desk.getByRole('button', { name: 'Canned', exact: true }).click();
      const search = desk.getByRole('combobox', { name: 'Search canned responses' });
      await menu.getByRole('option').nth(1).waitFor();
      assert.deepEqual(await menu.getByRole('option').locator('.canned-title').allTextContents(), ['Shipping times', 'Refund policy'], 'in the admin’s order');
      await search.fill('two working');
      await waitForText(menu.locator('#canned-status'), '1 canned response. Up and down to choose, Enter to insert.');
      await menu.getByRole('option', { name: /Shipping times/ }).click();
      await menu.waitFor({ state: 'hidden' });
      assert.equal(await compose.inputValue(), SHIPPING);
      await compose.press('Enter');
      await vera.widget.getByText(SHIPPING).waitFor();

      // Bob, an agent of Support only, in a chat of Support: none.
      const bob = await person();
      await openDesk(bob, 'bob');
      const wendy = await person();
      await wendy.page.goto('/widget/canned-support');
      await wendy.page.getByRole('button', { name: 'Open chat' }).click();
      await wendy.page.locator('form#parley-prechat').waitFor();
      await wendy.page.getByLabel('Name').fill('Wendy Other');
      await wendy.page.getByRole('button', { name: 'Start chat' }).click();
      await offerCard(bob.page, 'Wendy Other').waitFor();
      await accept(bob.page, 'Wendy Other');
      await bob.page.getByRole('button', { name: 'Canned', exact: true }).click();
      await waitForText(bob.page.locator('#canned-status'), 'This queue has no canned responses.');
      assert.equal(await bob.page.locator('#canned-menu').getByRole('option').count(), 0, 'Bob is offered nothing of the demo queue');
      await bob.page.keyboard.press('Escape');
      await bob.page.locator('#canned-menu').waitFor({ state: 'hidden' });
      await bob.page.locator('#compose').pressSequentially('/ref');
      await waitForText(bob.page.locator('#canned-status'), 'This queue has no canned responses.');

      await done(ada, alice, vera, bob, wendy);
    }));
});
