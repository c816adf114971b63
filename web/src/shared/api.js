/* Calls to the services' JSON APIs from a signed-in page (console, studio, report, admin): the session
 * cookie goes by itself (same origin), the session's CSRF token in X-CSRF-Token. Pure parts unit-tested. */

export const NETWORK_ERROR = "Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.";

/** A refused call: the HTTP status and the JSON body ({} when the body was not a JSON object). */
export class ApiError extends Error {
  constructor(status, data) {
    super(`HTTP ${status}`);
    this.status = status;
    this.data = data && typeof data === "object" ? data : {};
  }
}

/** fetch() options: the session's CSRF token, same-origin credentials, no cache; a JSON body, or `rawBody`
 * sent as it is with `contentType`. */
export function requestInit(method, csrfToken, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const init = { method, headers, cache: "no-store", credentials: "same-origin" };
  if (opts.rawBody !== undefined) {
    headers["Content-Type"] = opts.contentType || "application/octet-stream";
    init.body = opts.rawBody;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return init;
}

/** The body of a response: parsed JSON (null if it does not parse) or text. `lenient`: "" when the text
 * cannot be read, instead of failing. */
export async function readBody(res, lenient) {
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) return res.json().catch(() => null);
  return lenient ? res.text().catch(() => "") : res.text();
}

/** The list in an API answer: the answer itself, its first list under `keys`, or under "items". */
export function listFrom(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of [...keys, "items"]) if (data && Array.isArray(data[key])) return data[key];
  return [];
}

/** The service's own Vietnamese explanation of a refused call, if it gave one. */
export function ownMessage(err) {
  const data = err.data || {};
  return typeof data.message === "string" && data.message ? data.message : null;
}

/** The message for the statuses every page explains alike (400, 503 and unknown ones). */
export function commonMessage(err) {
  const own = ownMessage(err);
  switch (err.status) {
    case 400:
      return own || "Yêu cầu không hợp lệ.";
    case 503:
      return own || "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại.";
    default:
      return own || `Máy chủ gặp lỗi (${err.status}). Vui lòng thử lại.`;
  }
}
