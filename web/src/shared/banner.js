/* The error / information banner of the console and the studio (#error, #error-text), hidden again
 * after a while. */
import { $ } from "./dom.js";

export function createBanner({ errorMs, infoMs }) {
  let timer = null;
  function hide() {
    $("error").hidden = true;
    clearTimeout(timer);
  }
  function show(message, kind) {
    $("error-text").textContent = message;
    $("error").className = "banner" + (kind === "info" ? " info" : "");
    $("error").hidden = false;
    clearTimeout(timer);
    timer = setTimeout(hide, kind === "info" ? infoMs : errorMs);
  }
  return { show, hide };
}
