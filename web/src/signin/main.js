/* The staff sign-in page (/signin): e-mail and password, then the change of a one-time password; then
 * to the page asked for (`next`, one of ours) or the role's home. */
import { $ } from "../shared/dom.js";
import { NETWORK_ERROR, readBody, requestInit } from "../shared/api.js";
import { safeNext } from "../shared/session.js";
import { passwordProblem } from "./logic.js";

const params = new URLSearchParams(location.search);
let session = null;

function show(id, message) {
  const box = $(id);
  box.textContent = message || "";
  box.hidden = !message;
}

async function post(path, body, csrfToken) {
  const res = await fetch(path, requestInit("POST", csrfToken || "", body));
  return { status: res.status, data: (await readBody(res, true)) || {} };
}

function proceed(current) {
  if (current.user.must_change_password) {
    session = current;
    $("signin-form").hidden = true;
    $("change-form").hidden = false;
    $("current-password").focus();
    return;
  }
  location.assign(safeNext(params.get("next"), current.home));
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) return show("signin-error", "Vui lòng nhập e-mail và mật khẩu.");
  $("signin").disabled = true;
  try {
    const { status, data } = await post("/auth/signin", { email, password });
    if (status === 200) return proceed(data);
    $("password").value = "";
    show("signin-error", data.message || "Đăng nhập không thành công. Vui lòng thử lại.");
  } catch {
    show("signin-error", NETWORK_ERROR);
  } finally {
    $("signin").disabled = false;
  }
});

$("change-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = passwordProblem($("new-password").value, $("repeat-password").value);
  if (problem) return show("change-error", problem);
  $("change").disabled = true;
  try {
    const body = { current_password: $("current-password").value, new_password: $("new-password").value };
    const { status, data } = await post("/auth/password", body, session.csrf_token);
    if (status === 200) return proceed(data);
    show("change-error", data.message || "Chưa đổi được mật khẩu. Vui lòng thử lại.");
  } catch {
    show("change-error", NETWORK_ERROR);
  } finally {
    $("change").disabled = false;
  }
});

// already signed in (or sent here to change the one-time password): go on from the session
fetch("/auth/session", requestInit("GET", ""))
  .then(async (res) => {
    if (res.ok) return proceed(await res.json());
    const data = (await readBody(res, true)) || {};
    if (res.status === 403 && data.error === "password_change_required") {
      show("signin-error", "Vui lòng đăng nhập lại bằng mật khẩu dùng một lần để đặt mật khẩu mới.");
    }
  })
  .catch(() => {});
