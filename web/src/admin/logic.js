/* Rules of the admin page that need no DOM (unit-tested). */

export const ROLE_LABELS = {
  agent: "Nhân viên hỗ trợ",
  supervisor: "Trưởng ca",
  content: "Biên tập nội dung",
  admin: "Quản trị viên",
};

/** The query string of the audit filters (empty fields left out). */
export function auditQuery(filters) {
  const params = new URLSearchParams();
  for (const key of ["actor", "action", "since", "until"]) {
    const value = (filters[key] || "").trim();
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? "?" + text : "";
}

/** Roles that take tickets in the console (staff/access.py AGENTS): only they have a capacity and a presence. */
export const TICKET_ROLES = ["agent", "supervisor", "admin"];

export function takesTickets(role) {
  return TICKET_ROLES.includes(role);
}

/** The status cell of a user: disabled, waiting for a new password, not taking tickets, or presence. */
export function userState(user) {
  if (!user.active) return { text: "Đã khoá", cls: "disabled" };
  if (user.must_change_password) return { text: "Chờ đổi mật khẩu", cls: "" };
  if (!takesTickets(user.role)) return { text: "Không nhận phiếu", cls: "" };
  const presence = { online: "Trực tuyến", away: "Tạm vắng" }[user.presence];
  return presence ? { text: presence, cls: user.presence } : { text: "Ngoại tuyến", cls: "" };
}

/** An audit entry's details as one short line. */
export function detailsLine(details) {
  return Object.entries(details || {})
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}
