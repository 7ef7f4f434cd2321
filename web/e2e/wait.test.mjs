// The waiting customer's place in line, as people see it: three customers
// wait in a queue nobody is on duty for; the third reads "3rd in line";
// an agent comes on duty and takes the first, and the others move up
// live. Queue settings saved by an admin change what the desk and the
// console show without a reload: the offer's time to answer, the chat
// time colours, the service level; and missed offers pause the agent or
// not, as the queue says.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, saveQueue, startQueueChat } from './people.mjs';

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

/** @param {import('./people.mjs').Person} p */
const placeLine = (p) => p.page.locator('#parley-waiting .waiting-place');

describe('the place in line', () => {
  test('three customers wait; the third is 3rd in line; the first is taken and the others move up live', () =>
    explain(server, async () => {
      await saveQueue(server, 'line', { name: 'Line', members: ['alice'] });
      const ann = await startQueueChat(await person(), 'line', 'Ann Early');
      const ben = await startQueueChat(await person(), 'line', 'Ben Middle');
      const cat = await startQueueChat(await person(), 'line', 'Cat Late');

      // Nobody on duty, no chat answered yet: no figure, "shortly".
      await waitForText(placeLine(cat), 'You are 3rd in line · we will be with you shortly');
      await waitForText(placeLine(ben), 'You are 2nd in line · we will be with you shortly');
      await waitForText(placeLine(ann), 'You are next in line · we will be with you shortly');
      assert.equal(await placeLine(cat).getAttribute('aria-live'), 'polite', 'the place is read out politely');
      assert.match(await cat.page.locator('#parley-wait').innerText(), /^Waiting \d+:\d\d$/, 'the time waited stays');

      // Alice comes on duty and takes Ann's chat: Ben and Cat move up.
      const alice = await person();
      await openDesk(alice, 'alice');
      await offerCard(alice.page, 'Ann Early').waitFor();
      await accept(alice.page, 'Ann Early');
      await ben.page.locator('#parley-waiting .waiting-place', { hasText: /^You are next in line · / }).waitFor();
      await cat.page.locator('#parley-waiting .waiting-place', { hasText: /^You are 2nd in line · / }).waitFor();
      // A chat was answered and Alice is on duty: now there is a figure.
      assert.match(await placeLine(cat).innerText(), /^You are 2nd in line · (less than a minute|about \d+ minutes?)$/);
      await ann.page.locator('#parley-waiting').waitFor({ state: 'hidden' });

      // A reload shows the place at once, asked on connect.
      await cat.page.reload();
      await cat.page.locator('#parley-window').waitFor({ state: 'visible' }); // open as it was before the reload
      await cat.page.locator('#parley-waiting .waiting-place', { hasText: /^You are 2nd in line · / }).waitFor();

      // Ben leaves: Cat is next.
      await ben.page.getByRole('button', { name: 'End chat' }).click();
      await ben.page.locator('#parley-confirm-end').click();
      await cat.page.locator('#parley-waiting .waiting-place', { hasText: /^You are next in line · / }).waitFor();
      await done(ann, ben, cat, alice);
    }));
});

/**
 * The offer card's time to answer, in seconds: the length of its bar.
 * @param {import('playwright-core').Page} desk
 * @param {string} name
 */
async function answerSeconds(desk, name) {
  const card = offerCard(desk, name);
  await card.waitFor();
  return Number(await card.locator('.offer-bar').getAttribute('max'));
}

describe('queue settings, saved while people work', () => {
  test('answer_seconds, chat_time_limits and service_level_seconds change the desk and the console without a reload', () =>
    explain(server, async () => {
      // Alice may still have the chats of the test before: room for more.
      await saveQueue(server, 'set', { name: 'Settings', members: ['alice'], answer_seconds: 90, capacity: 10 });
      const sam = await person();
      const login = await sam.context.request.post('/api/login', { data: { username: 'sam', password: 'demo' } });
      assert.equal(login.status(), 200, 'sam signs in');
      await sam.page.goto('/supervisor');
      await waitForText(sam.page.locator('#conn-state'), 'Connected');
      const level = sam.page.locator('#queue-figures th', { hasText: 'Settings' }).locator('.sup-muted');
      await waitForText(level, '· 20 s');

      const alice = await person();
      await openDesk(alice, 'alice');
      const dot = await startQueueChat(await person(), 'set', 'Dot Customer');
      assert.equal(await answerSeconds(alice.page, 'Dot Customer'), 90, 'the offer counts down from answer_seconds');
      assert.match(await offerCard(alice.page, 'Dot Customer').locator('.offer-left').innerText(), /^(9\d|8\d) s left$/);
      await accept(alice.page, 'Dot Customer');
      const tab = alice.page.locator('#chat-tabs .chat-tab', { hasText: 'Dot Customer' });
      await tab.and(alice.page.locator('[data-level="green"]')).waitFor();
      const aliceRow = sam.page.locator('#agents-table tr', { hasText: 'Alice Agent' });
      const chip = aliceRow.locator('.sup-chip', { hasText: 'Dot Customer' });
      await chip.waitFor();

      // Short limits: the live chat turns red within two seconds, in the
      // desk and in the console, neither reloaded; the service level
      // threshold changes on the console.
      await saveQueue(server, 'set', { chat_time_limits: [1, 2], service_level_seconds: 45 });
      await tab.and(alice.page.locator('[data-level="red"]')).waitFor();
      await chip.and(sam.page.locator('[data-level="red"]')).waitFor();
      await waitForText(level, '· 45 s');

      // A shorter time to answer: the next offer counts down from it.
      await saveQueue(server, 'set', { answer_seconds: 20 });
      const eve = await startQueueChat(await person(), 'set', 'Eve Customer');
      assert.equal(await answerSeconds(alice.page, 'Eve Customer'), 20, 'the next offer counts down from the new answer_seconds');
      await done(sam, alice, dot, eve);
    }));

  test('missed offers leave the agent available when the queue ignores them, and pause them when it says so', () =>
    explain(server, async () => {
      await saveQueue(server, 'solo', { name: 'Solo', members: ['bob'], capacity: 3, answer_seconds: 4, missed_offers: 'ignore' });
      const fay = await startQueueChat(await person(), 'solo', 'Fay Customer');
      const gus = await startQueueChat(await person(), 'solo', 'Gus Customer');
      // Bob comes on duty: both chats are offered to him at once, and
      // both offers run out.
      const bob = await person();
      await openDesk(bob, 'bob');
      for (const name of ['Fay Customer', 'Gus Customer']) await offerCard(bob.page, name).waitFor();
      for (const name of ['Fay Customer', 'Gus Customer']) await offerCard(bob.page, name).waitFor({ state: 'detached' });
      // Bob is still available: the next chat is offered to him (with
      // time enough to change the queue before it runs out).
      await saveQueue(server, 'solo', { answer_seconds: 10 });
      const hal = await startQueueChat(await person(), 'solo', 'Hal Customer');
      await offerCard(bob.page, 'Hal Customer').waitFor();
      assert.equal(await bob.page.locator('#agent-status').inputValue(), 'available', 'missed offers ignored: Bob stays available');
      assert.equal(await bob.page.locator('#status-reason').isVisible(), false, 'no reason to show');

      // Now the queue pauses for missed offers: Hal's offer runs out too,
      // the third in a row, and Bob is paused.
      await saveQueue(server, 'solo', { missed_offers: 'pause' });
      await bob.page.locator('#status-control[data-status="paused"]').waitFor({ timeout: 20_000 }); // Hal's 10 s run out
      await bob.page.locator('#status-reason', { hasText: /^Missed an offer · since \d\d:\d\d$/ }).waitFor();
      await done(bob, fay, gus, hal);
    }));
});
