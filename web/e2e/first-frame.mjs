// A measurement, not a test (docs/benchmarks.md, "First picture and media
// capacity"): join → first frame of the remote camera in Chromium against
// the server at PARLEY_BIN. Alice creates a conference room and publishes
// her (fake) camera; N guests (default 10), one after another, open the
// room link, give a name and click Join. Each guest's page times from the
// click to the first frame its <video> of Alice's camera presents
// (requestVideoFrameCallback), and its down connection from creation to
// "connected", and from ICE "checking" to ICE "connected".
//
//   cd web/e2e && PARLEY_BIN=$PWD/../../bin/parley node first-frame.mjs
import { startServerAndBrowser, waitForText } from './harness.mjs';

const N = Number(process.env.N ?? 10);
const [server, browser] = await startServerAndBrowser();
const times = [];
const ices = [];
const chks = [];
try {
  const alice = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
  const res = await alice.request.post('/api/login', { data: { username: 'alice', password: 'demo' } });
  if (res.status() !== 200) throw new Error('alice signs in');
  const ap = await alice.newPage();
  await ap.goto('/external/conference');
  await ap.getByLabel('Room name').fill('Probe');
  await ap.getByRole('button', { name: 'Create room' }).click();
  const shown = ap.locator('#room-number');
  await shown.and(ap.locator(':visible')).waitFor({ timeout: 30000 });
  const number = (await shown.innerText()).replace(/\D/g, '');
  for (let i = 0; i < N; i++) {
    const g = await browser.newContext({ baseURL: server.url, permissions: ['camera', 'microphone'] });
    await g.addInitScript(() => {
      const w = /** @type {any} */ (globalThis);
      // Each connection's creation and first "connected"; the one that
      // gets tracks is the down connection.
      w.__pcs = [];
      const PC = w.RTCPeerConnection;
      w.RTCPeerConnection = class extends PC {
        constructor(...a) {
          super(...a);
          const rec = { created: performance.now(), connected: 0, checking: 0, iceConnected: 0, down: false };
          w.__pcs.push(rec);
          this.addEventListener('connectionstatechange', () => {
            if (this.connectionState === 'connected' && !rec.connected) rec.connected = performance.now();
          });
          this.addEventListener('track', () => { rec.down = true; });
          this.addEventListener('iceconnectionstatechange', () => {
            if (this.iceConnectionState === 'checking' && !rec.checking) rec.checking = performance.now();
            if (this.iceConnectionState === 'connected' && !rec.iceConnected) rec.iceConnected = performance.now();
          });
        }
      };
      document.addEventListener('click', (e) => {
        const b = /** @type {HTMLElement} */ (e.target).closest?.('button');
        if (b && b.textContent?.trim() === 'Join') w.__t0 = performance.now();
      }, true);
      const watch = (/** @type {HTMLVideoElement} */ v) => {
        const cb = () => {
          const name = v.closest('.room-tile-camera')?.querySelector('.room-name')?.textContent;
          if (name === 'Alice Agent') { if (w.__first === undefined) w.__first = performance.now(); return; }
          v.requestVideoFrameCallback(cb);
        };
        v.requestVideoFrameCallback(cb);
      };
      new MutationObserver((muts) => {
        for (const m of muts) for (const n of m.addedNodes) {
          if (n instanceof HTMLVideoElement) watch(n);
          else if (n instanceof Element) n.querySelectorAll('video').forEach(watch);
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const p = await g.newPage();
    await p.goto(`/external/conference/#${number}`);
    await waitForText(p.locator('#guest-room-name'), 'Probe');
    await p.locator('#guest').getByLabel('Your name').fill(`Guest ${i}`);
    await p.locator('#guest').getByRole('button', { name: 'Join', exact: true }).click();
    await p.waitForFunction(() => /** @type {any} */ (globalThis).__first !== undefined, null, { timeout: 30000 });
    const [d, ice, chk, dtls] = await p.evaluate(() => {
      const w = /** @type {any} */ (globalThis);
      const down = w.__pcs.find((r) => r.down);
      return [w.__first - w.__t0, down && down.connected ? down.connected - down.created : NaN, down ? down.iceConnected - down.checking : NaN, down ? down.connected - down.iceConnected : NaN];
    });
    times.push(d);
    ices.push(ice);
    chks.push(chk);
    console.log(`guest ${i}: ${d.toFixed(0)} ms (down connection: created → connected ${ice.toFixed(0)} ms, ICE checking → connected ${chk.toFixed(0)} ms, then DTLS ${dtls.toFixed(0)} ms)`);
    await g.close();
  }
} finally {
  await Promise.all([browser.close(), server.stop()]);
}
const s = [...times].sort((a, b) => a - b);
const pct = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
const si = ices.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
if (si.length) console.log(`down created → connected: p50 ${si[Math.ceil(0.5 * si.length) - 1].toFixed(0)} ms p95 ${si[Math.ceil(0.95 * si.length) - 1].toFixed(0)} ms; all ${ices.map((t) => t.toFixed(0)).join(' ')}`);
{ const c = [...chks].sort((a, b) => a - b); console.log(`ICE checking → connected: p50 ${c[Math.ceil(0.5 * c.length) - 1].toFixed(0)} ms p95 ${c[Math.ceil(0.95 * c.length) - 1].toFixed(0)} ms; all ${chks.map((t) => t.toFixed(0)).join(' ')}`); }
console.log(`${process.env.PARLEY_BIN}: n=${s.length} p50 ${pct(0.5).toFixed(0)} ms p95 ${pct(0.95).toFixed(0)} ms max ${s[s.length - 1].toFixed(0)} ms; all ${times.map((t) => t.toFixed(0)).join(' ')}`);
