// The admin API over HTTP (/api/admin/*, game/server/admin.py). No DOM: `fetch` and the
// token are injected, so this module imports (and can be tested) in Node.

/** A refused or failed admin request: `status` is the HTTP status (0: no answer). */
export class AdminApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "AdminApiError";
    this.status = status;
  }

  /** The server has no admin token configured (every admin route answers 404). */
  get off() {
    return this.status === 404 && this.message === "Not Found";
  }

  get unauthorized() {
    return this.status === 401;
  }
}

/** The `detail` FastAPI answers with: a string, or a list of validation errors. */
function detailText(body, fallback) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d?.msg ?? "").filter(Boolean).join("; ") || fallback;
  return fallback;
}

/**
 * createAdminApi({fetch, getToken, base}): the admin routes as async functions that
 * return the decoded answer or throw AdminApiError.
 */
export function createAdminApi({ fetch, getToken, base = "" }) {
  async function call(method, path, body) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${getToken() ?? ""}` };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${base}/api/admin${path}`, init);
    } catch (error) {
      throw new AdminApiError(0, `the server did not answer (${error?.message ?? error})`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) throw new AdminApiError(response.status, detailText(data, response.statusText || "request failed"));
    return data;
  }

  const query = (params) => {
    const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
    return entries.length ? `?${new URLSearchParams(entries)}` : "";
  };
  const id = encodeURIComponent;

  return {
    matches: ({ limit, cursor } = {}) => call("GET", `/matches${query({ limit, cursor })}`),
    inspect: (match) => call("GET", `/matches/${id(match)}`),
    /** result "aborted", or "adjudicated" with winner 0, 1 or null (a draw) */
    end: (match, result, winner = null) =>
      call("POST", `/matches/${id(match)}/end`, result === "aborted" ? { result } : { result, winner }),
    connections: ({ limit, cursor } = {}) => call("GET", `/connections${query({ limit, cursor })}`),
    kick: (player) => call("POST", `/connections/${id(player)}/kick`),
    notice: (message) => call("POST", "/notice", { message }),
  };
}
