// Reference browser client for the auth service (cookie transport).
//
// A plain ES module: no dependency, no build step. Served at /static/auth-client.js.
//
//   import { AuthClient } from "/static/auth-client.js";
//   const auth = new AuthClient({ baseUrl: "" });    // "" = same origin as the page
//   const user = await auth.login(email, password);   // fetches the CSRF token itself
//   const res = await auth.fetch("/api/auth/me/");    // a fetch() Response, with the Bearer token
//   await auth.logout();                              // auth.accessToken is null afterwards
//
// What it guarantees, and why:
// - The refresh token is never visible to JavaScript: the server keeps it in an HttpOnly
//   cookie (X-Auth-Transport: cookie), so an XSS bug cannot steal a 30-day session.
// - The access token lives in memory only (`auth.accessToken`); nothing is ever written to
//   localStorage, sessionStorage or document.cookie. After a reload the first `auth.fetch`
//   gets a new access token from the cookie, so the user stays logged in.
// - `auth.fetch` retries a request once after a 401, with a fresh access token. However many
//   requests fail at once, at most one refresh is in flight (single flight): the server's
//   grace window would tolerate a few, but one is all that is needed.
// - If the refresh fails, every pending request resolves to its own 401 response and
//   `auth.accessToken` becomes null: the caller shows its login form.
// - CSRF: every POST to /api/auth/ carries X-CSRFToken, from GET /api/auth/csrf/ (the body,
//   so it also works for a frontend on another site, which cannot read the csrftoken cookie).

const TRANSPORT = { "X-Auth-Transport": "cookie" };

/** An auth endpoint answered with an error: `status`, and the API's `code` and `detail`. */
export class AuthError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.name = "AuthError";
    this.status = status;
    this.code = (body && body.code) || "http_error";
    this.body = body;
  }
}

export class AuthClient {
  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl=""] the API's origin ("" = the page's own origin)
   * @param {typeof fetch} [options.fetch] the fetch implementation (default: the browser's)
   */
  constructor({ baseUrl = "", fetch: fetchImpl } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this._accessToken = null;
    this._generation = 0; // bumped on every change of the access token
    this._fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this._csrfToken = null;
    this._refreshing = null; // the one refresh in flight, shared by every caller
  }

  /** The current access token, in memory only; null when logged out (read/write). */
  get accessToken() {
    return this._accessToken;
  }

  set accessToken(token) {
    this._accessToken = token || null;
    this._generation += 1;
  }

  /** Log in; resolves to the `user` object, rejects with an AuthError. */
  async login(email, password) {
    const body = await this._authPost("/api/auth/login/", { email, password });
    this.accessToken = body.access;
    return body.user;
  }

  /** Create an account (same fields as POST /api/auth/register/); resolves to the `user`. */
  async register(fields) {
    const body = await this._authPost("/api/auth/register/", fields);
    this.accessToken = body.access;
    return body.user;
  }

  /**
   * Get a new access token from the refresh cookie. Resolves to true on success; on failure
   * to false, with `accessToken` set to null. Concurrent calls share one request.
   */
  refresh() {
    if (!this._refreshing) {
      this._refreshing = this._refreshNow().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  /**
   * fetch() with `Authorization: Bearer <access>`. On a 401 it refreshes (single flight) and
   * retries this request once; if the refresh fails it resolves to the 401 response. The
   * request must be re-sendable (a string, Blob, FormData or URLSearchParams body; a Request
   * object is cloned).
   */
  async fetch(input, init = {}) {
    let refreshed = false;
    if (this.accessToken === null) {
      // After a reload: the cookie may still hold a session.
      refreshed = await this.refresh();
    }
    const generation = this._generation;
    const response = await this._send(input, init, this.accessToken);
    if (response.status !== 401 || refreshed) {
      return response;
    }
    if (this._generation !== generation) {
      // Another request refreshed while this one was on the wire: retry with its token,
      // or, if that refresh failed, this 401 is the answer (no second refresh).
      return this.accessToken === null ? response : this._send(input, init, this.accessToken);
    }
    if (!(await this.refresh())) {
      return response;
    }
    return this._send(input, init, this.accessToken);
  }

  /** Log out: the server revokes the session and clears the cookie; accessToken becomes null. */
  async logout() {
    const post = () => this._authPost("/api/auth/logout/", {}, { bearer: true, expect: [200, 205] });
    try {
      try {
        await post();
      } catch (error) {
        // An expired (or, after a reload, absent) access token: refresh once, then log out.
        if (!(error instanceof AuthError && error.status === 401 && (await this.refresh()))) throw error;
        await post();
      }
    } finally {
      this.accessToken = null;
    }
  }

  // --- internals --------------------------------------------------------------------------
  _url(path) {
    return /^https?:\/\//.test(path) ? path : this.baseUrl + path;
  }

  _send(input, init, token) {
    const request = input instanceof Request ? input.clone() : this._url(input);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    if (token) {
      headers.set("Authorization", `Bearer ${token}`);
    } else {
      headers.delete("Authorization");
    }
    return this._fetch(request, { ...init, headers });
  }

  async _refreshNow() {
    try {
      const body = await this._authPost("/api/auth/refresh/", {});
      this.accessToken = body.access;
      return true;
    } catch (error) {
      this.accessToken = null;
      return false;
    }
  }

  async _csrf(renew = false) {
    if (this._csrfToken === null || renew) {
      const response = await this._fetch(this._url("/api/auth/csrf/"), { credentials: "include" });
      const body = await readJson(response);
      if (!response.ok) throw new AuthError(response.status, body);
      this._csrfToken = body.csrf_token;
    }
    return this._csrfToken;
  }

  /** POST to an auth endpoint in cookie transport, with CSRF (renewed once if refused). */
  async _authPost(path, payload, { bearer = false, expect = [200, 201] } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = {
        ...TRANSPORT,
        "Content-Type": "application/json",
        "X-CSRFToken": await this._csrf(attempt > 0),
      };
      if (bearer && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
      const response = await this._fetch(this._url(path), {
        method: "POST",
        headers,
        body: JSON.stringify(payload),
        credentials: "include", // the refresh and CSRF cookies, also from another origin
      });
      const body = await readJson(response);
      if (expect.includes(response.status)) return body;
      if (response.status === 403 && body && body.code === "csrf_failed" && attempt === 0) {
        continue; // the csrftoken cookie changed or expired: fetch a new pair, try once more
      }
      throw new AuthError(response.status, body);
    }
  }
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200), code: "not_json" };
  }
}
