// @ts-check
// Parley's chat widget loader, served at /widget.js. A company puts
//
//   <script src="https://PARLEY/widget.js" data-queue="KEY" async></script>
//
// on its site; this inserts one iframe with Parley's widget for that queue
// (/widget/KEY) in the bottom-right corner. Everything else happens inside
// the frame, on Parley's origin. The frame tells this script when the chat
// opens or closes ({parley: 'widget', open, call}) and it resizes the iframe
// (larger while a video call is on); it
// tells the frame how it is laid out ({parley: 'widget', layout}).
//
// A signed-in customer's identity (docs/protocol.md, "Verified identity"):
// data-identity="TOKEN" on the tag, signed by the company's backend. It
// goes to the frame with every layout message, addressed to Parley's
// origin only ({parley: 'widget', layout, identity}), never in the frame's
// URL (URLs land in logs); "" when the tag has none. Changing the
// attribute later hands the new token over.
//
// A classic script, no globals, no inline styles (styles are set through
// the CSSOM, which a strict CSP allows), idempotent when included twice.
(function () {
  'use strict';

  const CLOSED = { width: 88, height: 88 }; // the round button and its shadow
  const OPEN = { width: 400, height: 640 };
  const IN_CALL = { width: 520, height: 760 }; // open, with a video call in it
  const FULL_SCREEN_BELOW = 480; // viewport width under which the chat fills it

  /** @type {HTMLScriptElement | null} */
  const script =
    document.currentScript instanceof HTMLScriptElement && document.currentScript.dataset.queue !== undefined
      ? document.currentScript
      : document.querySelector('script[data-queue][src*="widget.js"]') ||
        document.querySelector('script[data-queue]');
  if (!script) return;
  const key = (script.dataset.queue || '').trim();
  if (!key) {
    console.warn('Parley widget: the script tag has no data-queue="KEY"');
    return;
  }
  /** @type {string} */
  let origin;
  try {
    origin = new URL(script.src, location.href).origin;
  } catch {
    console.warn('Parley widget: cannot tell Parley’s address from the script’s src');
    return;
  }
  if (origin === 'null') return;

  if (document.body) insert();
  else document.addEventListener('DOMContentLoaded', insert, { once: true });

  function insert() {
    // Included twice (or by two tags): the first one wins.
    if (document.querySelector('iframe[data-parley-widget]')) return;

    const frame = document.createElement('iframe');
    frame.title = 'Chat';
    frame.setAttribute('data-parley-widget', key);
    // Video calls and co-browsing happen inside the frame.
    frame.setAttribute('allow', 'camera; microphone; display-capture; autoplay');
    frame.src = origin + '/widget/' + encodeURIComponent(key);
    let open = false;
    let call = false; // a video call is on in the frame: more room for it
    let shown = false; // hidden until the widget says it is ready

    /**
     * @param {string} name
     * @param {string} value
     */
    const set = (name, value) => frame.style.setProperty(name, value, 'important');
    for (const [name, value] of [
      ['position', 'fixed'],
      ['right', '0'],
      ['bottom', '0'],
      ['left', 'auto'],
      ['top', 'auto'],
      ['margin', '0'],
      ['padding', '0'],
      ['border', '0'],
      ['outline', '0'],
      ['background', 'transparent'],
      ['box-shadow', 'none'],
      ['color-scheme', 'light'],
      ['display', 'block'],
      ['opacity', '1'],
      ['transform', 'none'],
      ['min-width', '0'],
      ['min-height', '0'],
      ['max-width', '100vw'],
      ['max-height', '100vh'],
      ['z-index', '2147483000'],
    ]) {
      set(name, value);
    }
    set('max-height', '100dvh'); // kept at 100vh where dvh is unknown

    const narrow = window.matchMedia('(max-width: ' + (FULL_SCREEN_BELOW - 0.02) + 'px)');

    function layout() {
      const full = open && narrow.matches;
      set('visibility', shown ? 'visible' : 'hidden');
      if (full) {
        set('width', '100vw');
        set('height', '100vh');
        set('height', '100dvh');
      } else {
        const size = open ? (call ? IN_CALL : OPEN) : CLOSED;
        set('width', size.width + 'px');
        set('height', size.height + 'px');
      }
      const identity = (script?.dataset.identity ?? '').trim();
      frame.contentWindow?.postMessage({ parley: 'widget', layout: full ? 'full' : 'float', identity }, origin);
    }

    window.addEventListener('message', (event) => {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      const data = event.data;
      if (!data || data.parley !== 'widget' || typeof data.open !== 'boolean') return;
      open = data.open;
      call = data.call === true;
      shown = true;
      layout();
    });
    narrow.addEventListener('change', layout);
    if (script) new MutationObserver(layout).observe(script, { attributes: true, attributeFilter: ['data-identity'] });
    frame.addEventListener('load', layout);

    layout();
    document.body.appendChild(frame);
  }
})();
