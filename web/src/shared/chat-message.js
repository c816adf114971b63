/* A message as the customer chat page draws it: text with links, an image, buttons or a star rating,
 * the time. Used by the chat page and by the studio's preview of an answer. */
import { el } from "./dom.js";
import { textParts } from "./url.js";

const RATING = /^\/give_rating\{\s*"rating"\s*:\s*([1-5])\s*\}$/;

export const IMAGE_ALT = "Hình ảnh SenMart gửi bạn";
export const RATING_GROUP = "Đánh giá từ 1 đến 5 sao";

/** The rating (1–5) a button's payload gives (`/give_rating{"rating": 4}`), or null. */
export function ratingOf(button) {
  const match = RATING.exec(String(button.payload).trim());
  return match ? Number(match[1]) : null;
}

/** The buttons that can be shown: objects with a payload. */
export function usableButtons(list) {
  return Array.isArray(list)
    ? list.filter((b) => b && typeof b === "object" && b.payload !== undefined && b.payload !== null)
    : [];
}

/** [{button, rating}] from the lowest rating up when every button is a rating (a star row); else null. */
export function starOrder(buttons) {
  const ratings = buttons.map(ratingOf);
  if (!ratings.every((rating) => rating !== null)) return null;
  return buttons.map((button, index) => ({ button, rating: ratings[index] })).sort((a, b) => a.rating - b.rating);
}

/** Text with its line breaks (CSS pre-wrap) and its http(s) URLs as links, appended to `parent`. */
export function appendRichText(parent, text) {
  for (const part of textParts(text, window.location.href)) {
    if (part.href) {
      const link = el("a", null, part.text);
      link.href = part.href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
    } else {
      parent.appendChild(document.createTextNode(part.text));
    }
  }
}

/** The container of a message's buttons; a star row is a labelled group. */
export function choiceGroup(stars) {
  const group = el("div", stars ? "choices stars" : "choices");
  if (stars) {
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", RATING_GROUP);
  }
  return group;
}

export function labelStar(star, rating) {
  star.setAttribute("aria-label", `${rating} sao`);
  star.title = `${rating} sao`;
}

/** A message row `msg <role>`: [author], bubble, image, choices, time (each only when given). */
export function messageRow(role, { author, text, image, lazy, choices, time }) {
  const row = el("div", `msg ${role}`);
  if (author) row.appendChild(author);
  if (text) {
    const bubble = el("div", "bubble");
    appendRichText(bubble, text);
    row.appendChild(bubble);
  }
  if (image) {
    const img = el("img", "image");
    img.src = image;
    img.alt = IMAGE_ALT;
    if (lazy) img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    row.appendChild(img);
  }
  if (choices) row.appendChild(choices);
  row.appendChild(el("span", "time", time));
  return row;
}
