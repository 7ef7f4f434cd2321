// The waiting customer's place in line, as people see it: three customers
// wait in a queue nobody is on duty for; the third reads "3rd in line";
// an agent comes on duty and takes the first, and the others move up
// live. Queue settings saved by an admin change what the desk and the
// console show without a reload: the offer's time to answer, the chat
// time colours, the service level; and missed offers pause the agent or
// not, as the queue says.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, launchBrowser, startServer, waitForText } from './harness.mjs';
import { accept, done, newPerson, offerCard, openDesk, saveQueue } from './people.mjs';

const TIMEOUT = 10_000;

/** @type {import('./harness.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});

after(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

const person = () => newPerson(browser, server, { timeout: TIMEOUT });

/**
 * The person opens queue key's chat page and starts a chat.
 * @param {import('./people.mjs').Person} p
 * @param {string} key
 * @param {string} name
 */
async function startChatIn(p, key, name) {
  await p.page.goto(`/widget/${key}`);
  await p.page.getByRole('button', { name: 'Open chat' }).click();
  await p.page.locator('form#parley-prechat').waitFor();
  await p.page.getByLabel('Name').fill(name);
  await p.page.getByRole('button', { name: 'Start chat' }).click();
  await p.page.locator('#parley-waiting').waitFor();
  return p;
}

/** @param {import('./people.mjs').Person} p */
const placeLine = (p) => p.page.locator('#parley-waiting .waiting-place');

describe('the place in line', () => {
  test('three customers wait; the third is 3rd in line; the first is taken and the others move up live', () =>
    explain(server, async () => {
      await saveQueue(server, 'line', { name: 'Line', members: ['alice'] });
      const ann = await startChatIn(await person(), 'line', 'Ann Early');
      const ben = await startChatIn(await person(), 'line', 'Ben Middle');
      const cat = await startChatIn(await person(), 'line', 'Cat Late');

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
