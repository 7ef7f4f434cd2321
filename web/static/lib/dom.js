// @ts-check
// Small DOM helpers. Text goes in as text: nothing here ever sets
// innerHTML, so a message can never become markup.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 */

/**
 * Creates an element. Attributes are set with setAttribute (an "on…" name
 * is refused: listen with addEventListener); children that are not nodes
 * become text nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on/i.test(name)) throw new Error(`el: use addEventListener, not the ${name} attribute`);
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

/**
 * Appends children; strings and numbers become text nodes.
 * @param {Node} parent
 * @param {...Child} children
 */
export function append(parent, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's content with text.
 * @param {Element} node
 * @param {string} text
 */
export function setText(node, text) {
  node.textContent = text;
}

/**
 * Finds an element by id, and fails loudly when the page lacks it.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page has no element #${id}`);
  return /** @type {T} */ (node);
}
