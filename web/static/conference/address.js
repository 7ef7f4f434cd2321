// @ts-check
// The conference page's room numbers as typed and linked, and copying to
// the clipboard.

/**
 * The digits of a typed or linked room number ("481 902-7736" → "4819027736").
 * @param {string} s
 */
export function digits(s) {
  return s.replace(/\D+/g, '');
}

/**
 * The room's link: /external/conference/#NUMBER on this site.
 * @param {string} number
 */
export function roomURL(number) {
  return `${location.origin}/external/conference/#${number}`;
}

/**
 * The room number in this page's address (#NUMBER), or "".
 * @returns {string}
 */
export function numberInAddress() {
  return digits(decodeURIComponent(location.hash.slice(1)));
}

/**
 * Puts the number in the address (without a new history entry), or takes it
 * away, so that a reload comes back to the same room.
 * @param {string} number "" for none
 */
export function setAddress(number) {
  const path = '/external/conference/' + (number ? `#${number}` : '');
  if (location.pathname + location.hash !== path) history.replaceState(null, '', path);
}

/**
 * Copies text; where the Clipboard API is missing (plain http on a host
 * that is not this machine) through a selected, hidden text area.
 * @param {string} text
 * @returns {Promise<boolean>} whether it was copied
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // not allowed: try the old way
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'copy-buffer';
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
