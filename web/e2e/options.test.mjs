// Questions with options in Chromium, against the real server
// (docs/protocol.md, "Questions with options"). Alice writes "How would
// you like to be contacted?" in the reply box, opens Options, gives
// Phone / E-mail / Chat (adding and removing an input on the way) and
// sends the question; Vera's widget shows it with three buttons; she
// clicks E-mail. Her reply "E-mail" appears on both sides, Alice sees
// E-mail marked as chosen (as does Sam, a supervisor following the chat in
// the console), Vera's buttons are disabled with E-mail
// pressed, and after a reload of the widget they stay so. A choice the
// server refuses (the chat has ended) enables the buttons again and says
// why. Who may ask and answer, and the bounds, are proven by the Go tests
// (cmd/parley/options_test.go).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText, waitUntil } from './harness.mjs';
import { accept, done, newPerson, openDesk, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
const QUESTION = 'How would you like to be contacted?';

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
 * Alice asks the question in the reply box with the given options, through
 * the Options form, and waits until the question shows in her desk.
 * @param {import('playwright-core').Page} desk
 * @param {string} question
 * @param {string[]} labels
 */
async function ask(desk, question, labels) {
  await desk.locator('#compose').fill(question);
  await desk.getByRole('button', { name: 'Options', exact: true }).click();
  const form = desk.getByRole('group', { name: /Options for the question/ });
  await form.waitFor();
  for (let i = 2; i < labels.length; i++) await form.getByRole('button', { name: 'Add option' }).click();
  for (const [i, label] of labels.entries()) await form.getByLabel(`Option ${i + 1}`, { exact: true }).fill(label);
  await form.getByRole('button', { name: 'Send question' }).click();
  await form.waitFor({ state: 'hidden' });
  await desk.locator('#transcript .msg-agent', { hasText: question }).locator('.msg-options').waitFor();
}

describe('options', () => {
  test('the agent asks with three options, the customer clicks E-mail, both sides see the choice, also after a reload', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Options', 'vera.options@example.com');
      await accept(desk, 'Vera Options');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      const id = Number(await desk.locator('#chat-tabs .chat-tab[aria-selected="true"]').getAttribute('data-conversation'));

      // Sam, a supervisor, follows the chat in the console's chat pane.
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      await sam.page.goto('/supervisor');
      await sam.page.locator(`#lists .sup-chip[data-conversation-id="${id}"]`).click();
      const pane = sam.page.locator('#chat-pane');
      await waitForText(pane.getByRole('heading', { level: 2 }), 'Chat with Vera Options');

      // The form: two inputs to start, one more added, a fourth added and
      // removed; remove is off at two and add at six.
      await desk.locator('#compose').fill(QUESTION);
      await desk.getByRole('button', { name: 'Options', exact: true }).click();
      const form = desk.getByRole('group', { name: /Options for the question/ });
      await form.waitFor();
      assert.equal(await form.getByRole('textbox').count(), 2, 'two options to start with');
      assert.ok(await form.getByRole('button', { name: 'Remove option 1' }).isDisabled(), 'no fewer than two');
      await form.getByRole('button', { name: 'Add option' }).click();
      await form.getByRole('button', { name: 'Add option' }).click();
      assert.equal(await form.getByRole('textbox').count(), 4, 'four after adding two');
      await form.getByRole('button', { name: 'Remove option 4' }).click();
      assert.equal(await form.getByRole('textbox').count(), 3, 'three after removing one');
      await form.getByLabel('Option 1', { exact: true }).fill('Phone');
      await form.getByLabel('Option 2', { exact: true }).fill('E-mail');
      // An empty option is refused in the page, naming it.
      await form.getByRole('button', { name: 'Send question' }).click();
      await waitForText(form.getByRole('alert'), 'Option 3 is empty.');
      await form.getByLabel('Option 3', { exact: true }).fill('Chat');
      await form.getByRole('button', { name: 'Send question' }).click();
      await form.waitFor({ state: 'hidden' });
      assert.equal(await desk.locator('#compose').inputValue(), '', 'the reply box is cleared');

      // The desk shows the question with its options, none chosen.
      const question = desk.locator('#transcript .msg-agent', { hasText: QUESTION });
      const offered = question.getByRole('list', { name: 'Options offered' });
      await offered.waitFor();
      assert.deepEqual(await offered.getByRole('listitem').allTextContents(), ['Phone', 'E-mail', 'Chat']);
      assert.equal(await question.locator('.msg-option-chosen').count(), 0, 'nothing chosen yet');

      // The widget shows it with three buttons, grouped under the question.
      const w = vera.widget;
      const buttons = w.getByRole('group', { name: QUESTION });
      await buttons.waitFor();
      assert.deepEqual(await buttons.getByRole('button').allTextContents(), ['Phone', 'E-mail', 'Chat']);
      await buttons.getByRole('button', { name: 'E-mail' }).click();

      // Vera's reply "E-mail" on both sides.
      await w.locator('#parley-transcript .msg-own:not(.pending)', { hasText: 'E-mail' }).waitFor();
      await desk.locator('#transcript .msg-customer', { hasText: 'E-mail' }).waitFor();
      // Alice sees E-mail chosen, live.
      await waitForText(question.locator('.msg-option-chosen'), 'E-mail — chosen by the customer');
      assert.equal(await question.locator('.msg-option-chosen').count(), 1, 'one option chosen');
      // Vera's buttons are disabled, E-mail pressed.
      /** @param {string} when */
      const chosenInWidget = async (when) => {
        const all = buttons.getByRole('button');
        await waitUntil(async () => (await all.evaluateAll((bs) => bs.every((b) => /** @type {HTMLButtonElement} */ (b).disabled))), `every button disabled ${when}`);
        assert.deepEqual(
          await all.evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-pressed'))),
          ['false', 'true', 'false'],
          `E-mail is the one pressed ${when}`,
        );
      };
      await chosenInWidget('after the click');
      // Sam sees the choice too, live.
      await waitForText(pane.locator('.msg-option-chosen'), 'E-mail — chosen by the customer');

      // After a reload of the widget, from the resumed chat.
      await vera.page.reload();
      await buttons.waitFor();
      await chosenInWidget('after a reload');
      assert.equal(await w.locator('#parley-transcript .msg-own', { hasText: 'E-mail' }).count(), 1, 'the reply shows once');
      // And in Alice's desk after a reload.
      await desk.reload();
      await waitForText(desk.locator('#transcript .msg-agent', { hasText: QUESTION }).locator('.msg-option-chosen'), 'E-mail — chosen by the customer');
      await done(alice, vera, sam);
    }));

  test('a choice the server refuses enables the buttons again and says why', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Late', 'vera.late@example.com');
      await accept(desk, 'Vera Late');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();
      await ask(desk, 'Shall we call you back?', ['Yes', 'No']);
      const w = vera.widget;
      const buttons = w.getByRole('group', { name: 'Shall we call you back?' });
      await buttons.waitFor();

      // Alice closes the chat before Vera chooses.
      await desk.getByRole('button', { name: 'Close chat' }).click();
      const dialog = desk.getByRole('dialog');
      await dialog.getByLabel('Resolved').check();
      await dialog.getByRole('button', { name: 'Close chat' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await w.getByText('The agent ended the chat.').waitFor();

      await buttons.getByRole('button', { name: 'Yes' }).click();
      await waitForText(buttons.getByRole('status'), 'Your choice was not sent: The chat is closed.');
      assert.deepEqual(
        await buttons.getByRole('button').evaluateAll((bs) => bs.map((b) => /** @type {HTMLButtonElement} */ (b).disabled)),
        [false, false],
        'the buttons are enabled again',
      );
      await done(alice, vera);
    }));
});
