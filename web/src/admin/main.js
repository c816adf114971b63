/* The admin page (/admin): invite people (the one-time password is shown once), change role and capacity,
 * disable or enable, reset a password; the audit log with filters and a CSV export. Text from the API
 * goes in through textContent only. */
import { $, button, cell, clear, el, option } from "../shared/dom.js";
import { ApiError, NETWORK_ERROR, commonMessage, readBody, requestInit } from "../shared/api.js";
import { timeWithFullDate } from "../shared/format.js";
import { loadSession, sessionEnded, wireSessionControls } from "../shared/session.js";
import { ROLE_LABELS, auditQuery, detailsLine, takesTickets, userState } from "./logic.js";

let session = null;

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, requestInit(method, session.csrf_token, body));
  } catch {
    throw new Error(NETWORK_ERROR);
  }
  const data = await readBody(res, true);
  if (res.status === 401) sessionEnded();
  if (!res.ok) throw new Error(commonMessage(new ApiError(res.status, data)));
  return data;
}

function banner(message) {
  $("banner").textContent = message || "";
  $("banner").hidden = !message;
}

function showSecret(text, password) {
  $("secret-text").textContent = text;
  $("secret").textContent = password;
  $("secret-box").hidden = false;
}

function roleSelect(selected) {
  const select = el("select");
  for (const [value, label] of Object.entries(ROLE_LABELS)) select.appendChild(option(value, label, value === selected));
  return select;
}

async function act(work) {
  banner("");
  try {
    await work();
  } catch (err) {
    banner(err.message);
  }
  await loadUsers();
  await loadAudit();
}

function userRow(user) {
  const row = el("tr");
  row.dataset.email = user.email;
  cell(row, user.name);
  cell(row, user.email);
  const role = roleSelect(user.role);
  role.className = "role";
  cell(row, "").appendChild(role);
  const capacity = el("input", "capacity");
  capacity.type = "number";
  capacity.min = "1";
  capacity.max = "100";
  capacity.value = String(user.capacity);
  // only roles that take tickets have a capacity; the field follows the role chosen before saving
  const showCapacity = () => {
    capacity.hidden = !takesTickets(role.value);
  };
  role.addEventListener("change", showCapacity);
  showCapacity();
  cell(row, "").appendChild(capacity);
  const state = userState(user);
  const badge = el("span", "badge " + state.cls, state.text);
  if (takesTickets(user.role)) badge.title = "Theo bảng phiếu (/console): trực tuyến khi đang mở";
  cell(row, "").appendChild(badge);
  const actions = el("div", "actions");
  actions.appendChild(
    button("Lưu", "save", () =>
      act(() =>
        api("PATCH", `/admin/api/users/${encodeURIComponent(user.id)}`, {
          role: role.value,
          ...(takesTickets(role.value) ? { capacity: Number(capacity.value) } : {}),
        }),
      ),
    ),
  );
  actions.appendChild(
    button(user.active ? "Khoá" : "Mở khoá", "toggle", () =>
      act(() => api("PATCH", `/admin/api/users/${encodeURIComponent(user.id)}`, { active: !user.active })),
    ),
  );
  actions.appendChild(
    button("Đặt lại mật khẩu", "reset", () =>
      act(async () => {
        const data = await api("POST", `/admin/api/users/${encodeURIComponent(user.id)}/reset-password`);
        showSecret(`Mật khẩu dùng một lần mới của ${user.name}:`, data.one_time_password);
      }),
    ),
  );
  cell(row, "").appendChild(actions);
  return row;
}

async function loadUsers() {
  try {
    const data = await api("GET", "/admin/api/users");
    const body = $("users");
    clear(body);
    for (const user of data.users) body.appendChild(userRow(user));
  } catch (err) {
    banner(err.message);
  }
}

function filters() {
  return {
    actor: $("audit-actor").value,
    action: $("audit-action").value,
    since: $("audit-since").value,
    until: $("audit-until").value,
  };
}

async function loadAudit() {
  const query = auditQuery(filters());
  $("audit-csv").href = "/admin/api/audit.csv" + query;
  try {
    const data = await api("GET", "/admin/api/audit" + query);
    const body = $("audit");
    clear(body);
    for (const entry of data.entries) {
      const row = el("tr");
      cell(row, timeWithFullDate(entry.ts));
      cell(row, entry.actor_name ? `${entry.actor_name} (${entry.actor_role || "chưa đăng nhập"})` : entry.actor_id);
      cell(row, entry.action);
      cell(row, entry.target);
      cell(row, detailsLine(entry.details), "details");
      body.appendChild(row);
    }
  } catch (err) {
    banner(err.message);
  }
}

async function start() {
  session = await loadSession();
  if (!session) return;
  wireSessionControls(session);
  for (const [value, label] of Object.entries(ROLE_LABELS)) $("invite-role").appendChild(option(value, label, value === "agent"));
  $("invite-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const data = await api("POST", "/admin/api/users", {
        name: $("invite-name").value,
        email: $("invite-email").value,
        role: $("invite-role").value,
      });
      showSecret(`Đã mời ${data.user.name} (${data.user.role_label}). Mật khẩu dùng một lần:`, data.one_time_password);
      $("invite-name").value = "";
      $("invite-email").value = "";
    });
  });
  $("secret-done").addEventListener("click", () => {
    $("secret").textContent = "";
    $("secret-box").hidden = true;
  });
  $("audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAudit();
  });
  $("app").hidden = false;
  await loadUsers();
  await loadAudit();
}

start();
