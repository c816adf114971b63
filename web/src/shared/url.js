/* URLs in messages: only http(s) becomes a link or an image source. Pure (no DOM): unit-tested. */

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"…]+$/;

/** The absolute http(s) URL of `value` (relative to `base`), or null for any other scheme or garbage. */
export function safeUrl(value, base) {
  try {
    const url = new URL(String(value), base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `text` cut into [{text}] and [{text, href}] parts: http(s) URLs (without trailing punctuation) are links. */
export function textParts(text, base) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    let raw = match[0];
    const trailing = raw.match(TRAILING_PUNCTUATION);
    if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    const href = safeUrl(raw, base);
    parts.push(href ? { text: raw, href } : { text: raw });
    last = match.index + raw.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
