/* Keyboard handling shared by the text boxes of the chat page, the console and the studio. */

/** Enter, but not the Enter that confirms an IME composition (Telex, VNI: isComposing or keyCode 229). */
export function enterPressed(event) {
  return event.key === "Enter" && !event.isComposing && event.keyCode !== 229;
}

/** Enter sends, Shift+Enter is a new line. */
export function enterSends(event) {
  return enterPressed(event) && !event.shiftKey;
}
