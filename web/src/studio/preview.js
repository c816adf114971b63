/* The studio's preview of bot answers, drawn as the customer chat page draws them (shared/chat-message.js):
 * the buttons are inert here, their title tells what the bot receives. */
import { button, clear, el } from "../shared/dom.js";
import { choiceGroup, labelStar, messageRow, starOrder, usableButtons } from "../shared/chat-message.js";
import { clockTime } from "../shared/format.js";
import { safeUrl } from "../shared/url.js";

function choices(buttons) {
  const stars = starOrder(buttons);
  const group = choiceGroup(Boolean(stars));
  if (stars) {
    for (const { rating } of stars) {
      const star = button("★", "star");
      labelStar(star, rating);
      group.appendChild(star);
    }
    return group;
  }
  for (const b of buttons) {
    const choice = button(String(b.title || b.payload), "choice");
    choice.title = "Khi khách bấm, bot nhận: " + String(b.payload);
    group.appendChild(choice);
  }
  return group;
}

/** One bot message as the chat page shows it; null if it has nothing to show. */
function chatMessage(message, role) {
  const text = typeof message.text === "string" ? message.text : "";
  const buttons = usableButtons(message.buttons || message.quick_replies);
  const image = message.image ? safeUrl(message.image, window.location.href) : null;
  if (!text && !buttons.length && !image) return null;
  return messageRow(role || "bot", {
    text,
    image,
    choices: buttons.length ? choices(buttons) : null,
    time: clockTime(new Date()),
  });
}

/** Bot messages into `container` as the chat page shows them; `labelOf(i)` above each (several answers). */
export function renderChat(container, messages, emptyText, labelOf) {
  clear(container);
  let shown = 0;
  (messages || []).forEach((m, i) => {
    if (!m || typeof m !== "object") return;
    const row = chatMessage(m, "bot");
    if (!row) return;
    if (labelOf) container.appendChild(el("span", "preview-label", labelOf(i)));
    container.appendChild(row);
    shown++;
  });
  if (!shown) container.appendChild(el("p", "preview-empty", emptyText || "Chưa có nội dung để xem trước."));
}
