// Files in messages in Chromium, against the real server (docs/protocol.md,
// "Files (HTTP)"): Alice drags a PDF and an image onto the desk's compose
// area, watches them upload, and sends them with a line of text; Vera's
// widget shows the image as a thumbnail and the PDF as a card, and she
// downloads both, byte for byte. With the queue's limit lowered, a file
// too big is refused at the file and the message does not go without it.
// The refusals, who may fetch what and the memory bound are proven by the
// Go tests (web/files_test.go, cmd/parley/files_test.go).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { explain, startServerAndBrowser, waitForText } from './harness.mjs';
import { accept, done, newPerson, openDesk, saveQueue, startDemoChat } from './people.mjs';

const TIMEOUT = 10_000;
// A 1×1 PNG and a small PDF, as bytes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'.repeat(40));

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
const withMicrophone = () => newPerson(browser, server, { timeout: TIMEOUT, permissions: ['microphone'] });

/**
 * Plays an audio element (after a click, a person's gesture) and resolves
 * with its position once it has advanced.
 * @param {import('playwright-core').Locator} audio
 */
async function plays(audio) {
  await audio.click();
  return audio.evaluate(
    (node) =>
      new Promise((resolve, reject) => {
        const a = /** @type {HTMLAudioElement} */ (node);
        a.addEventListener('timeupdate', () => a.currentTime > 0 && resolve(a.currentTime));
        a.addEventListener('error', () => reject(new Error(`the audio cannot play: ${a.error?.message}`)));
        a.play().catch(reject);
      }),
  );
}

/**
 * Drops files onto the desk's compose area, as a person dragging them
 * from their file manager would.
 * @param {import('playwright-core').Page} page
 * @param {{name: string, type: string, bytes: Buffer}[]} files
 */
async function dropFiles(page, files) {
  const dt = await page.evaluateHandle((list) => {
    const t = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      t.items.add(new File([Uint8Array.from(bin, (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    }
    return t;
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })));
  const area = page.locator('#compose-form');
  await area.dispatchEvent('dragover', { dataTransfer: dt });
  await area.dispatchEvent('drop', { dataTransfer: dt });
}

describe('files', () => {
  test('an agent drops a PDF and an image into the desk; the customer sees and downloads both; a file too big is refused at the file', () =>
    explain(server, async () => {
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Files', 'vera.files@example.com');
      await accept(desk, 'Vera Files');
      await vera.widget.getByText('Alice Agent joined the chat').waitFor();

      await dropFiles(desk, [
        { name: 'invoice.pdf', type: 'application/pdf', bytes: PDF },
        { name: 'cat.png', type: 'image/png', bytes: PNG },
      ]);
      const list = desk.getByRole('list', { name: 'Attached files' });
      await list.getByRole('progressbar', { name: 'invoice.pdf uploaded' }).waitFor();
      await list.getByRole('progressbar', { name: 'cat.png uploaded' }).waitFor();
      await desk.locator('#compose').fill('Here are your documents');
      await desk.getByRole('button', { name: 'Send', exact: true }).click();
      const mine = desk.locator('#transcript .msg:not(.pending)', { hasText: 'Here are your documents' });
      await mine.waitFor();
      assert.equal(await mine.locator('.msg-file').count(), 2, 'the desk shows the message with its two files');
      await list.waitFor({ state: 'hidden' });

      // Vera sees the image as a thumbnail and the PDF as a card.
      const w = vera.widget;
      const msg = w.locator('.msg-agent', { hasText: 'Here are your documents' });
      await msg.waitFor();
      const thumb = msg.getByRole('img', { name: 'cat.png' });
      await thumb.waitFor();
      await w.locator('img.file-thumb[src^="blob:"]').waitFor();
      const width = await thumb.evaluate(async (node) => {
        const img = /** @type {HTMLImageElement} */ (node);
        await img.decode();
        return img.naturalWidth;
      });
      assert.equal(width, 1, 'the thumbnail shows the image');
      const card = msg.locator('.msg-file', { hasText: 'invoice.pdf' });
      await waitForText(card.locator('.file-size'), `${Math.round(PDF.length / 1024)} KB`);

      // She downloads both.
      for (const [name, bytes] of /** @type {[string, Buffer][]} */ ([['invoice.pdf', PDF], ['cat.png', PNG]])) {
        const [download] = await Promise.all([
          vera.page.waitForEvent('download'),
          msg.getByRole('button', { name: `Download ${name}` }).click(),
        ]);
        assert.equal(download.suggestedFilename(), name);
        const path = await download.path();
        assert.ok(path, 'the download is saved');
        assert.deepEqual(await readFile(path), bytes, `${name} arrives byte for byte`);
      }

      // The queue takes files up to 1 KiB now: a bigger one is refused at the file.
      await saveQueue(server, 'demo', { file_max_bytes: 1024 });
      await dropFiles(desk, [{ name: 'big.pdf', type: 'application/pdf', bytes: PDF }]);
      const big = list.locator('.attachment', { hasText: 'big.pdf' });
      await waitForText(big.getByRole('alert'), `${PDF.length} bytes, this queue takes files up to 1024 bytes`);
      await desk.locator('#compose').fill('And the big one');
      await desk.getByRole('button', { name: 'Send', exact: true }).click();
      await waitForText(desk.locator('#compose-error'), 'Remove the files that could not be attached first.');
      assert.equal(await desk.locator('#transcript .msg', { hasText: 'And the big one' }).count(), 0, 'the message is not sent without its file');
      await big.getByRole('button', { name: 'Remove big.pdf' }).click();
      await list.waitFor({ state: 'hidden' });
      await done(alice, vera);
    }));

  test('the customer attaches a file with the picker; the agent downloads it', () =>
    explain(server, async () => {
      await saveQueue(server, 'demo', { file_max_bytes: 20 * 1024 * 1024 });
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await person(), 'Vera Picker', 'vera.picker@example.com');
      await accept(desk, 'Vera Picker');
      const w = vera.widget;
      await w.getByText('Alice Agent joined the chat').waitFor();
      const [chooser] = await Promise.all([vera.page.waitForEvent('filechooser'), w.getByRole('button', { name: 'Attach files' }).click()]);
      await chooser.setFiles({ name: 'receipt.pdf', mimeType: 'application/pdf', buffer: PDF });
      await w.getByRole('progressbar', { name: 'receipt.pdf uploaded' }).waitFor();
      await w.locator('#parley-input').fill('My receipt');
      await w.getByRole('button', { name: 'Send', exact: true }).click();
      await w.locator('.msg-own:not(.pending)', { hasText: 'My receipt' }).locator('.msg-file', { hasText: 'receipt.pdf' }).waitFor();
      const msg = desk.locator('#transcript .msg-customer', { hasText: 'My receipt' });
      const [download] = await Promise.all([desk.waitForEvent('download'), msg.getByRole('button', { name: 'Download receipt.pdf' }).click()]);
      const path = await download.path();
      assert.ok(path, 'the download is saved');
      assert.deepEqual(await readFile(path), PDF, 'the agent gets the customer\'s file byte for byte');
      await done(alice, vera);
    }));

  test('the customer records a voice message that plays in the desk', () =>
    explain(server, async () => {
      await saveQueue(server, 'demo', { file_max_bytes: 20 * 1024 * 1024 });
      const alice = await person();
      await openDesk(alice, 'alice');
      const desk = alice.page;
      const vera = await startDemoChat(await withMicrophone(), 'Vera Voice', 'vera.voice@example.com');
      await accept(desk, 'Vera Voice');
      const w = vera.widget;
      await w.getByText('Alice Agent joined the chat').waitFor();

      await w.getByRole('button', { name: 'Record a voice message' }).click();
      const bar = w.getByRole('group', { name: 'Recording a voice message' });
      await bar.waitFor();
      // The timer runs; a second of the fake microphone's tone is recorded.
      await waitForText(bar.getByRole('timer'), '0:01', 5000);
      await bar.getByRole('button', { name: 'Send voice message' }).click();
      await bar.waitFor({ state: 'hidden' });

      // It plays in the customer's widget and in the desk.
      const mine = w.locator('.msg-own:not(.pending) audio.file-audio[src^="blob:"]');
      await mine.waitFor();
      const heard = desk.locator('#transcript .msg-customer audio.file-audio[src^="blob:"]');
      await heard.waitFor();
      assert.ok((await plays(heard)) > 0, 'the voice message plays in the desk');
      assert.ok((await plays(mine)) > 0, 'and in the widget');

      // Cancel records nothing.
      await w.getByRole('button', { name: 'Record a voice message' }).click();
      await bar.waitFor();
      await bar.getByRole('button', { name: 'Cancel' }).click();
      await waitForText(w.locator('.voice-status'), 'Voice message discarded.');
      assert.equal(await desk.locator('#transcript .msg-customer audio').count(), 1, 'one voice message only');
      await done(alice, vera);
    }));

  test('the admin sets a queue’s largest file and kinds of file in the console', () =>
    explain(server, async () => {
      const ada = await person();
      const login = await ada.context.request.post('/api/login', { data: { username: 'ada', password: 'demo' } });
      assert.equal(login.status(), 200, 'ada signs in');
      const page = ada.page;
      await page.goto('/admin#queues');
      await page.getByRole('button', { name: 'New queue' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Files EU');
      await page.getByLabel('Key', { exact: true }).fill('files-eu');
      const files = page.getByRole('region', { name: 'Files' });
      assert.equal(await files.getByLabel('Largest file, MiB').inputValue(), '20', 'the default is 20 MiB');
      for (const kind of ['Images', 'PDF', 'Text', 'Office documents', 'Audio (voice messages too)', 'Video']) {
        assert.ok(await files.getByLabel(kind, { exact: true }).isChecked(), `${kind} is taken by default`);
      }
      // Too big: the server's refusal shows at the field.
      await files.getByLabel('Largest file, MiB').fill('200');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await waitForText(page.locator('#q-file_max_bytes-error'), '1024–104857600 bytes (1 KiB–100 MiB)');
      await files.getByLabel('Largest file, MiB').fill('5');
      await files.getByLabel('Video', { exact: true }).uncheck();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await waitForText(page.locator('#q-status'), 'Saved');
      const res = await ada.context.request.get('/api/widget/files-eu');
      const saved = await res.json();
      assert.equal(saved.file_max_bytes, 5 * 1024 * 1024, 'saved as bytes');
      assert.deepEqual(saved.file_types, ['images', 'pdf', 'text', 'office', 'audio'], 'video is no longer taken');
      await done(ada);
    }));
});

