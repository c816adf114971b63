/* DOM helpers shared by every page. Text always goes in through textContent, never as markup. */

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element with an optional class and text (as text, never parsed as HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** A type="button" button (no form submit) with an optional click handler. */
export function button(label, className, onClick) {
  const b = el("button", className || "btn", label);
  b.type = "button";
  if (onClick) b.addEventListener("click", onClick);
  return b;
}

export function option(value, label, selected) {
  const o = el("option", null, label);
  o.value = value;
  if (selected) o.selected = true;
  return o;
}

/** A <td> with text appended to a table row. */
export function cell(row, text, className) {
  const td = el("td", className, text);
  row.appendChild(td);
  return td;
}

/** Saves a blob as a file through a temporary blob: link (allowed by the pages' CSP). */
export function downloadBlob(blob, filename, revokeAfterMs) {
  const url = URL.createObjectURL(blob);
  const a = el("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), revokeAfterMs);
}
