// The demo page's script (frontend/demo.html), a file of its own so the page needs no inline
// script under its Content-Security-Policy (apps/core/csp.py).
import { AuthClient } from "/static/auth-client.js";

const auth = new AuthClient({ baseUrl: "" });
window.auth = auth; // for the browser console (and the project's browser tests)
const $ = (id) => document.getElementById(id);

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function showMe() {
  const response = await auth.fetch("/api/auth/me/");
  if (response.status === 401) {
    $("me-card").hidden = true;
    $("login-card").hidden = false;
    document.body.dataset.state = "logged-out";
    return;
  }
  const user = await response.json();
  $("me-email").textContent = user.email;
  $("me").textContent = JSON.stringify(user, null, 2);
  $("login-card").hidden = true;
  $("me-card").hidden = false;
  document.body.dataset.state = "logged-in";
}

async function run(action) {
  status("");
  try {
    await action();
    await showMe();
  } catch (error) {
    status(`${error.message} (${error.code || "error"})`, true);
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(() => auth.login($("email").value, $("password").value));
});
$("register").addEventListener("click", () => {
  if ($("login-form").reportValidity()) {
    run(() => auth.register({ email: $("email").value, password: $("password").value }));
  }
});
$("reload-me").addEventListener("click", () => run(async () => {}));
$("logout").addEventListener("click", () => run(() => auth.logout()));

showMe().catch((error) => status(error.message, true));
