// Staff messages in the desk (docs/protocol.md, "Staff"): the Team panel
// with colleagues' live status, one thread per pair with unread badges,
// a thread that survives a reload, and a message written while the server
// is away that is sent once it is back, once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { done, newPerson, openDesk } from './people.mjs';

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

/**
 * A colleague's row in the Team panel.
 * @param {import('playwright-core').Page} desk
 * @param {string} name
 */
function row(desk, name) {
  return desk.locator('#team-list .team-row').filter({ has: desk.locator('.team-name', { hasText: name }) });
}

/**
 * The texts of the open thread's messages, in order, with whose they are.
 * @param {import('playwright-core').Page} desk
 */
function thread(desk) {
  return desk.locator('#team-thread .team-msg').evaluateAll((nodes) =>
    nodes.map((n) => `${n.classList.contains('team-msg-own') ? 'me' : 'them'}: ${n.querySelector('.msg-text')?.textContent}`),
  );
}

/**
 * @param {import('playwright-core').Locator} box
 * @param {string} text
 */
async function typeAndEnter(box, text) {
  await box.fill(text);
  await box.press('Enter');
}

describe('staff messages', () => {
  test('a supervisor and an agent write to each other from the Team panel, with badges, live status and a reload', () =>
    explain(server, async () => {
      const sam = await newPerson(browser, server);
      const alice = await newPerson(browser, server);
      try {
        await openDesk(alice, 'alice');
        await openDesk(sam, 'sam');
        const samDesk = sam.page;
        const aliceDesk = alice.page;

        // Sam sees Alice available and connected, and himself nowhere.
        await waitForText(row(samDesk, 'Alice Agent').locator('.team-status'), 'Available · online');
        assert.equal(await row(samDesk, 'Sam Supervisor').count(), 0, 'the panel lists colleagues, not oneself');

        // A click on Alice's page lets it play sounds (browsers want a gesture first).
        await aliceDesk.locator('#team-title').click();
        const played = Number((await aliceDesk.locator('#sound-toggle').getAttribute('data-played')) ?? 0);

        await row(samDesk, 'Alice Agent').getByRole('button').click();
        await waitForText(samDesk.locator('#team-thread-title'), 'Alice Agent');
        await typeAndEnter(samDesk.getByLabel('Message', { exact: true }), 'Can you take the VIP chat in Sales?');
        await samDesk.locator('#team-thread .team-msg-own:not(.pending) .msg-text').getByText('Can you take the VIP chat in Sales?').waitFor();

        // Alice: a badge on Sam's row and the total on the panel's title.
        await waitForText(row(aliceDesk, 'Sam Supervisor').locator('.team-badge'), '1');
        await waitForText(aliceDesk.locator('#team-unread'), '1');
        await aliceDesk.locator(`#sound-toggle[data-played="${played + 1}"]`).waitFor();
        await row(aliceDesk, 'Sam Supervisor').getByRole('button').click();
        await aliceDesk.locator('#team-thread .team-msg-theirs .msg-text').getByText('Can you take the VIP chat in Sales?').waitFor();
        await aliceDesk.locator('#team-thread .team-msg-theirs .msg-author').getByText('Sam Supervisor').waitFor();
        await row(aliceDesk, 'Sam Supervisor').locator('.team-badge').waitFor({ state: 'hidden' });
        await aliceDesk.locator('#team-unread').waitFor({ state: 'hidden' });
        await typeAndEnter(aliceDesk.getByLabel('Message', { exact: true }), 'On it.');

        // Sam, whose thread is open, sees the answer and no badge.
        await samDesk.locator('#team-thread .team-msg-theirs .msg-text').getByText('On it.').waitFor();
        assert.deepEqual(await thread(samDesk), ['me: Can you take the VIP chat in Sales?', 'them: On it.']);
        await samDesk.locator('#team-unread').waitFor({ state: 'hidden' });

        // Alice reloads: the thread is still there, nothing unread.
        await aliceDesk.reload();
        await waitForText(aliceDesk.locator('#conn-state'), 'Connected');
        await row(aliceDesk, 'Sam Supervisor').getByRole('button').click();
        await aliceDesk.locator('#team-thread .team-msg-own .msg-text').getByText('On it.').waitFor();
        assert.deepEqual(await thread(aliceDesk), ['them: Can you take the VIP chat in Sales?', 'me: On it.']);
        assert.equal(await aliceDesk.locator('#team-unread').isHidden(), true, 'nothing unread after the reload');

        // Alice pauses; Sam's panel says so without a reload.
        await aliceDesk.locator('#agent-status').selectOption('paused');
        const pause = aliceDesk.getByRole('dialog');
        await pause.getByLabel('Lunch').check();
        await pause.getByRole('button', { name: 'Pause' }).click();
        await waitForText(row(samDesk, 'Alice Agent').locator('.team-status'), 'Paused: Lunch · online');
        await waitForText(samDesk.locator('#team-thread .team-thread-status'), 'Agent · Paused: Lunch · online');

        // Alice closes her desk: Sam sees her not connected.
        await aliceDesk.close();
        await waitForText(row(samDesk, 'Alice Agent').locator('.team-status'), 'Paused: Lunch · not connected');

        // Sam read Alice's answer as it came (his thread was open): after a
        // reload nothing is unread.
        await samDesk.reload();
        await waitForText(row(samDesk, 'Alice Agent').locator('.team-status'), 'Paused: Lunch · not connected');
        assert.equal(await samDesk.locator('#team-unread').isHidden(), true, 'read while open, so not unread after a reload');
        assert.equal(await row(samDesk, 'Alice Agent').locator('.team-badge').isHidden(), true);
      } finally {
        await done(sam, alice);
      }
    }));

  test('a message written while the server restarts is sent once it is back, once', () =>
    explain(server, async () => {
      const bob = await newPerson(browser, server);
      const ada = await newPerson(browser, server);
      try {
        await openDesk(bob, 'bob');
        await openDesk(ada, 'ada');
        await row(ada.page, 'Bob Agent').getByRole('button').click();
        const box = ada.page.getByLabel('Message', { exact: true });
        await typeAndEnter(box, 'before the restart');
        await ada.page.locator('#team-thread .team-msg-own:not(.pending) .msg-text').getByText('before the restart').waitFor();

        const restarted = server.restart();
        await waitForText(ada.page.locator('#conn-state'), 'Reconnecting…', 15_000);
        await typeAndEnter(box, 'written while away');
        await waitForText(ada.page.locator('#team-thread .team-msg.pending .msg-text'), 'written while away');
        await restarted;

        await waitForText(ada.page.locator('#conn-state'), 'Connected', 20_000);
        await ada.page.locator('#team-thread .team-msg.pending').waitFor({ state: 'detached', timeout: 20_000 });
        await waitForText(bob.page.locator('#conn-state'), 'Connected', 20_000);
        await waitForText(row(bob.page, 'Ada Admin').locator('.team-badge'), '2', 20_000);
        await row(bob.page, 'Ada Admin').getByRole('button').click();
        await bob.page.locator('#team-thread .msg-text').getByText('written while away').waitFor();
        assert.deepEqual(await thread(bob.page), ['them: before the restart', 'them: written while away']);
        assert.deepEqual(await thread(ada.page), ['me: before the restart', 'me: written while away']);
      } finally {
        await done(bob, ada);
      }
    }));
});
