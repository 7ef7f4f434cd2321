// @ts-check
// The small markup of chat messages, as every page shows them: *bold*,
// _italic_, and links. A message travels as plain text (docs/protocol.md,
// "Message markup"); this is only how a page draws it. Everything is built
// from DOM nodes and text nodes: nothing here sets innerHTML, so whatever
// a message holds, <img onerror=…> included, stays text.
//
// Rules (docs/protocol.md says the same for other clients):
//   - A link is an http:// or https:// URL, a mailto: address, or a bare
//     www. address (opened as https://). Trailing punctuation (.,;:!?'"*_
//     and a ")" without its "(") stays outside the link. No other scheme
//     (javascript:, data:, …) ever becomes a link.
//   - *text* is bold and _text_ is italic when the opening marker follows
//     the start, a space or punctuation and comes before a non-space, and
//     the closing one follows a non-space and comes before the end, a
//     space or punctuation. So snake_case_names and 2*3*4 stay as typed.
//     Emphasis stays within one line; it may hold a link but never cuts
//     one (markers inside a URL are part of the URL). The other marker may
//     sit inside (*bold _and italic_*), the same one not.
//   - A marker without its partner stays as typed. Newlines stay in the
//     text (the pages show them with white-space: pre-wrap).

/** Where a link may start: the scheme or www., case-insensitive. */
const LINK = /(?:https?:\/\/|mailto:|www\.)[^\s<>"]+/giu;
/** Letters and digits: what makes a marker part of a word. */
const WORD = /[\p{L}\p{N}]/u;
/** What may stand right before a link's start. */
const BEFORE_LINK = /[\p{L}\p{N}_.\/@:+-]/u;
/** Trailing characters that end a sentence rather than a URL. */
const TRAILING = /[.,;:!?'"*_]/;

/**
 * @typedef {{href: string, text: string}} Link
 * @typedef {string | Link} Token one character (a code point) or a whole link
 */

/**
 * The message text as nodes: text, <strong>, <em> and <a> elements.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function renderMarkup(text) {
  const frag = document.createDocumentFragment();
  const toks = tokens(text);
  for (const node of build(toks, 0, toks.length, '*_')) frag.appendChild(node);
  return frag;
}

/**
 * The text as a list of code points, with each link as one token.
 * @param {string} text
 * @returns {Token[]}
 */
function tokens(text) {
  /** @type {Token[]} */
  const out = [];
  let at = 0;
  for (const m of text.matchAll(LINK)) {
    const start = m.index ?? 0;
    if (start < at) continue;
    const prev = text.slice(0, start).slice(-1);
    const raw = trimUrl(m[0]);
    const href = prev !== '' && BEFORE_LINK.test(prev) ? null : linkHref(raw);
    if (href === null) continue;
    out.push(...text.slice(at, start));
    out.push({ href, text: raw });
    at = start + raw.length;
  }
  out.push(...text.slice(at));
  return out;
}

/**
 * Takes sentence punctuation off a URL's end, and a ")" that closes
 * nothing inside it: "(see https://a.example/x)." links https://a.example/x.
 * @param {string} url
 */
function trimUrl(url) {
  for (;;) {
    const last = url.slice(-1);
    if (TRAILING.test(last)) {
      url = url.slice(0, -1);
    } else if (last === ')' && count(url, '(') < count(url, ')')) {
      url = url.slice(0, -1);
    } else {
      return url;
    }
  }
}

/**
 * @param {string} s
 * @param {string} c
 */
function count(s, c) {
  return s.split(c).length - 1;
}

/**
 * The address a link opens, or null when the text is not one we link.
 * @param {string} raw the text as typed
 * @returns {string | null}
 */
function linkHref(raw) {
  const lower = raw.toLowerCase();
  let candidate = raw;
  if (lower.startsWith('www.')) candidate = `https://${raw}`;
  if (lower.startsWith('mailto:') && !/^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$/i.test(raw)) return null;
  /** @type {URL} */
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol === 'mailto:') return url.href;
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return url.href;
  return null;
}

/**
 * Nodes for toks[from:to], emphasis with the given markers recognised.
 * @param {Token[]} toks
 * @param {number} from
 * @param {number} to
 * @param {string} markers which of * and _ may still open here
 * @returns {Node[]}
 */
function build(toks, from, to, markers) {
  /** @type {Node[]} */
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') out.push(document.createTextNode(plain));
    plain = '';
  };
  for (let i = from; i < to; i++) {
    const t = toks[i];
    if (typeof t !== 'string') {
      flush();
      out.push(linkNode(t));
      continue;
    }
    if (markers.includes(t) && opens(toks, from, i, to)) {
      const j = closing(toks, i, to);
      if (j > 0) {
        flush();
        const node = document.createElement(t === '*' ? 'strong' : 'em');
        for (const child of build(toks, i + 1, j, markers.replace(t, ''))) node.appendChild(child);
        out.push(node);
        i = j;
        continue;
      }
    }
    plain += t;
  }
  flush();
  return out;
}

/**
 * Whether the marker at i may open: after the start, a space or
 * punctuation (not a letter, digit or the same marker), before a non-space.
 * @param {Token[]} toks
 * @param {number} from where the run starts (inside emphasis: after its marker)
 * @param {number} i
 * @param {number} to
 */
function opens(toks, from, i, to) {
  const prev = i > from ? toks[i - 1] : undefined;
  const next = i + 1 < to ? toks[i + 1] : undefined;
  if (next === undefined || next === toks[i] || isSpace(next)) return false;
  return prev === undefined || (typeof prev === 'string' && prev !== toks[i] && !WORD.test(prev));
}

/**
 * The index of the marker closing the one at i, or -1: the first of the
 * same marker on the same line after a non-space and before the end, a
 * space or punctuation.
 * @param {Token[]} toks
 * @param {number} i
 * @param {number} to
 */
function closing(toks, i, to) {
  const marker = toks[i];
  for (let j = i + 2; j < to; j++) {
    const t = toks[j];
    if (t === '\n') return -1;
    if (t !== marker) continue;
    const prev = toks[j - 1];
    const next = j + 1 < to ? toks[j + 1] : undefined;
    if (isSpace(prev)) continue;
    if (next === undefined || (typeof next === 'string' && next !== marker && !WORD.test(next))) return j;
  }
  return -1;
}

/** @param {Token} t */
function isSpace(t) {
  return typeof t === 'string' && /\s/u.test(t);
}

/**
 * A link opening in a new tab, the opener cut off.
 * @param {Link} link
 */
function linkNode(link) {
  const a = document.createElement('a');
  a.href = link.href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = link.text;
  return a;
}
