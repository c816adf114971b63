/* The signed-in person of a staff page (console, studio, report, admin): GET /auth/session gives the
 * account and the CSRF token; no session sends the page to /signin, a one-time password to its change.
 * Sign-out here or everywhere. `safeNext` and `pageFor` are pure (unit-tested). */
import { requestInit, readBody } from "./api.js";

const PAGES = ["/console", "/studio", "/studio/report", "/admin"];

/** A `next` address to go to after signing in: one of our pages (same origin, a path), else `fallback`. */
export function safeNext(next, fallback) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) {
    return fallback;
  }
  const path = next.split(/[?#]/)[0].replace(/\/+$/, "");
  return PAGES.includes(path) ? next : fallback;
}

/** Where to send the browser when a call says 401 (signed out) or the password must be changed. */
export function signInAddress(pathname, changePassword) {
  return changePassword ? "/signin?change=1" : "/signin?next=" + encodeURIComponent(pathname);
}

/** The session ({user, csrf_token, home}), or null after sending the browser to the sign-in page. */
export async function loadSession() {
  const res = await fetch("/auth/session", requestInit("GET", ""));
  const data = await readBody(res, true);
  if (res.ok && data && data.user) return data;
  const change = res.status === 403 && data && data.error === "password_change_required";
  location.assign(signInAddress(location.pathname, change));
  return null;
}

/** Sign out (here, or every session of the account), then to the sign-in page. */
export async function signOut(csrfToken, everywhere) {
  const path = everywhere ? "/auth/signout-everywhere" : "/auth/signout";
  try {
    await fetch(path, requestInit("POST", csrfToken));
  } finally {
    location.assign("/signin");
  }
}

/** Send the browser to sign in again (a call answered 401: the session ended). */
export function sessionEnded() {
  location.assign(signInAddress(location.pathname, false));
}

/** Wire the header's controls: the name, "Đăng xuất" and "Đăng xuất mọi nơi". */
export function wireSessionControls(session, ids = {}) {
  const me = document.getElementById(ids.me || "me");
  if (me) me.textContent = session.user.name + " · " + session.user.role_label;
  const out = document.getElementById(ids.logout || "logout");
  if (out) out.addEventListener("click", () => signOut(session.csrf_token, false));
  const everywhere = document.getElementById(ids.everywhere || "logout-everywhere");
  if (everywhere) everywhere.addEventListener("click", () => signOut(session.csrf_token, true));
}
