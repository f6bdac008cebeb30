// Latchkey's pages work without this script; it adds the live search, the
// app type-ahead, dialogs, and the OAuth popup.
(() => {
  "use strict";

  const debounce = (fn, ms) => {
    let t;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  };

  // --- Accounts: live search and filter -------------------------------
  const live = document.querySelector("form[data-live]");
  const rows = document.getElementById("account-rows");
  let rowsSeq = 0;
  const refreshRows = async () => {
    if (!rows) return;
    // Answers may come back out of order; only the latest one counts.
    const mine = ++rowsSeq;
    const params = live ? new URLSearchParams(new FormData(live)) : new URLSearchParams();
    const res = await fetch("/ui/accounts/rows?" + params.toString(), { headers: { "X-Fragment": "1" } });
    const html = res.ok ? await res.text() : null;
    if (html !== null && mine === rowsSeq) rows.innerHTML = html;
  };
  if (live) {
    const update = debounce(() => {
      const params = new URLSearchParams(new FormData(live));
      history.replaceState(null, "", params.toString() ? "/?" + params.toString() : "/");
      refreshRows();
    }, 200);
    live.addEventListener("input", update);
    live.addEventListener("change", update);
    live.addEventListener("submit", (e) => { e.preventDefault(); update(); });
  }

  // --- Row menus: one open at a time; Escape and outside clicks close ---
  const closeMenus = (except) => {
    document.querySelectorAll("details.menu[open]").forEach((d) => { if (d !== except) d.open = false; });
  };
  document.addEventListener("toggle", (e) => {
    const d = e.target;
    if (d instanceof HTMLDetailsElement && d.classList.contains("menu") && d.open) {
      closeMenus(d);
      const first = d.querySelector("[role=menuitem]");
      if (first) first.focus();
    }
  }, true);
  document.addEventListener("click", (e) => {
    if (!e.target.closest("details.menu")) closeMenus(null);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const open = document.querySelector("details.menu[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  // --- Dialogs ---------------------------------------------------------
  const openDialog = (dialog, focus) => {
    if (typeof dialog.showModal !== "function") return false;
    dialog.showModal();
    const f = focus || dialog.querySelector("input:not([type=hidden]), select, button");
    if (f) f.focus();
    return true;
  };
  document.addEventListener("click", (e) => {
    const close = e.target.closest("[data-close]");
    if (close && close.closest("dialog")) {
      e.preventDefault();
      close.closest("dialog").close();
      return;
    }
    const rename = e.target.closest("[data-rename]");
    if (rename) {
      const dialog = document.getElementById("rename-dialog");
      if (!dialog) return;
      e.preventDefault();
      closeMenus(null);
      const form = dialog.querySelector("form");
      form.action = "/accounts/" + encodeURIComponent(rename.dataset.id) + "/rename";
      const input = dialog.querySelector("input[name=nickname]");
      input.value = rename.dataset.name;
      openDialog(dialog, input);
      input.select();
      return;
    }
    const del = e.target.closest("[data-delete]");
    if (del) {
      const dialog = document.getElementById("delete-dialog");
      if (!dialog) return;
      e.preventDefault();
      closeMenus(null);
      dialog.querySelector("form").action = "/accounts/" + encodeURIComponent(del.dataset.id) + "/delete";
      dialog.querySelectorAll("[data-fill=name]").forEach((n) => { n.textContent = del.dataset.name; });
      dialog.querySelectorAll("[data-fill=app]").forEach((n) => { n.textContent = del.dataset.app; });
      // Revoking means something only for an OAuth grant; an API key is
      // the user's to revoke at the app. A box ticked on the page before
      // carries over.
      const revocable = del.hasAttribute("data-revocable");
      const revoke = dialog.querySelector("[data-revoke]");
      if (revoke) {
        revoke.hidden = !revocable;
        const box = revoke.querySelector("input");
        const own = del.closest("form") && del.closest("form").querySelector("input[name=revoke]");
        box.disabled = !revocable;
        box.checked = revocable && !!own && own.checked;
      }
      openDialog(dialog, dialog.querySelector("[data-close]"));
      return;
    }
    // An empty list's button goes to the form below and into its first
    // field (the link alone only scrolls).
    const go = e.target.closest("a[data-focus]");
    if (go) {
      const field = document.getElementById(go.dataset.focus);
      if (field) {
        e.preventDefault();
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
      return;
    }
    const copy = e.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(() => { copy.textContent = "Copied"; }, () => {});
      }
      return;
    }
    const confirmBtn = e.target.closest("[data-confirm]");
    if (confirmBtn && !window.confirm(confirmBtn.dataset.confirm)) {
      e.preventDefault();
    }
  });

  // --- OAuth: a popup at the provider; the callback page tells us -------
  const showError = (form, message, link) => {
    let p = form.querySelector(".form-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "form-error";
      p.setAttribute("role", "alert");
      form.prepend(p);
    }
    p.textContent = message;
    // The page that fixes it, when the server names one.
    if (link && link.href) {
      const a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text || "Fix it";
      p.append(" ", a);
    }
  };
  const startOAuth = async (form) => {
    oauthForm = form;
    form.querySelectorAll(".form-error").forEach((p) => p.remove());
    // Open the window now, inside the click, so it is not blocked; point it
    // at the provider once the server answers.
    const popup = window.open("", "latchkey-connect", "popup,width=620,height=760");
    let data;
    try {
      const res = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
      data = await res.json();
      if (!res.ok) {
        const err = new Error(data.error || "The connection could not be started.");
        err.link = { href: data.link, text: data.link_text };
        throw err;
      }
    } catch (err) {
      if (popup) popup.close();
      showError(form, err.message, err.link);
      return;
    }
    if (popup && !popup.closed) {
      popup.location.href = data.authorize_url;
      popup.focus();
    } else {
      // Popups blocked: the whole page goes to the provider and back.
      window.location.href = data.authorize_url;
    }
  };
  let oauthForm = null;
  const flash = (text, href) => {
    let p = document.querySelector("main .flash");
    if (!p) {
      p = document.createElement("p");
      p.className = "flash";
      p.setAttribute("role", "status");
      document.querySelector("main").prepend(p);
    }
    p.textContent = text + " ";
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = "View it";
      p.append(a);
    }
  };
  window.addEventListener("message", async (e) => {
    if (e.origin !== window.location.origin) return;
    const msg = e.data;
    if (!msg || msg.type !== "latchkey:connected") return;
    const dialog = document.getElementById("connect-dialog");
    if (!msg.ok) {
      // The popup shows the error too; say it here, where the user is.
      if (oauthForm && document.contains(oauthForm)) showError(oauthForm, msg.message || "The account was not connected.");
      else flash(msg.message || "The account was not connected.");
      return;
    }
    if (dialog && dialog.open) dialog.close();
    // Say which account, and what happened to it.
    const verb = msg.reconnected ? "is reconnected." : "is connected.";
    const said = msg.name ? (msg.app ? msg.app + " account “" : "“") + msg.name + "” " + verb
      : (msg.app ? msg.app + " account " : "The account ") + verb;
    if (rows) {
      await refreshRows();
      const row = rows.querySelector('tr[data-id="' + CSS.escape(msg.account || "") + '"]');
      if (row) row.classList.add("fresh");
      flash(said);
    } else if (document.getElementById("app-results")) {
      flash(said, "/accounts/" + encodeURIComponent(msg.account || ""));
    } else if (location.pathname.startsWith("/accounts/")) {
      // The account's page, as it is now, with the confirmation.
      window.location.replace(location.pathname + "?done=" + (msg.reconnected ? "reconnected" : "connected"));
    } else {
      // A workflow page: show the account as it is now.
      window.location.reload();
    }
  });

  // --- Picker: type-ahead and the connect dialog ------------------------
  const search = document.querySelector("[data-typeahead]");
  const results = document.getElementById("app-results");
  const status = document.getElementById("picker-status");
  const card = (app) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.className = "app-card";
    a.href = "/connect/" + encodeURIComponent(app.Slug);
    a.dataset.connect = app.Slug;
    const mono = document.createElement("span");
    mono.setAttribute("aria-hidden", "true");
    if (app.Logo) {
      mono.className = "mono logo" + (app.LogoLight ? " light" : "");
      const img = document.createElement("img");
      img.src = app.Logo;
      img.alt = "";
      mono.append(img);
    } else {
      mono.className = "mono " + hueOf(app.Slug);
      mono.textContent = monogram(app.Name);
    }
    const text = document.createElement("span");
    text.className = "app-card-text";
    const name = document.createElement("span");
    name.className = "app-name";
    name.textContent = app.Name;
    const meta = document.createElement("span");
    meta.className = "app-meta";
    const tag = document.createElement("span");
    tag.className = "tag " + (app.Auth === "oauth2" ? "oauth" : "keys");
    tag.textContent = app.Auth === "oauth2" ? "OAuth" : "API key";
    meta.append(tag, " " + (app.Categories || []).join(" · "));
    text.append(name, meta);
    if (app.Existing) {
      const ex = document.createElement("span");
      ex.className = "app-existing";
      ex.textContent = app.Existing + " connected already";
      text.append(ex);
    }
    a.append(mono, text);
    li.append(a);
    return li;
  };
  // The same monogram and colour the server draws (FNV-1a, twelve hues).
  const hueOf = (slug) => {
    let h = 0x811c9dc5;
    for (const c of new TextEncoder().encode(slug)) { h ^= c; h = Math.imul(h, 0x01000193) >>> 0; }
    return "h" + String.fromCharCode(97 + (h % 12));
  };
  const monogram = (name) => {
    const words = name.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    return words.slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
  };
  if (search && results) {
    let seq = 0;
    // The category filter narrows the search; its links work without
    // this script too, as page loads.
    const catInput = () => search.form.querySelector("input[name=category]");
    const category = () => (catInput() ? catInput().value : "");
    const find = async () => {
      const mine = ++seq;
      const params = new URLSearchParams({ q: search.value.trim() });
      if (category()) params.set("category", category());
      const res = await fetch("/ui/apps?" + params.toString());
      if (!res.ok || mine !== seq) return;
      const apps = await res.json();
      results.replaceChildren(...apps.map(card));
      if (!apps.length) {
        const li = document.createElement("li");
        li.className = "muted";
        li.textContent = "No app matches.";
        results.append(li);
      }
      if (status) status.textContent = apps.length + " apps";
    };
    search.addEventListener("input", debounce(find, 150));
    document.addEventListener("click", (e) => {
      const chip = e.target.closest(".cat-filter a[data-category]");
      if (!chip) return;
      e.preventDefault();
      let input = catInput();
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "category";
        search.form.append(input);
      }
      input.value = chip.dataset.category;
      document.querySelectorAll(".cat-filter a[aria-current]").forEach((a) => a.removeAttribute("aria-current"));
      chip.setAttribute("aria-current", "true");
      const params = new URLSearchParams();
      if (search.value.trim()) params.set("q", search.value.trim());
      if (input.value) params.set("category", input.value);
      history.replaceState(null, "", "/connect" + (params.toString() ? "?" + params.toString() : ""));
      find();
    });
  }
  const connectDialog = document.getElementById("connect-dialog");
  const connectBody = document.getElementById("connect-dialog-body");
  const loadConnect = async (url, init) => {
    const res = await fetch(url, Object.assign({ headers: { "X-Fragment": "1" } }, init || {}));
    const type = res.headers.get("Content-Type") || "";
    if (type.includes("application/json")) return res.json();
    connectBody.innerHTML = await res.text();
    if (!connectDialog.open) openDialog(connectDialog);
    // After a refusal, the cursor goes to the field at fault.
    const first = connectBody.querySelector("[aria-invalid=true]") || connectBody.querySelector("input:not([type=hidden])");
    if (first) first.focus();
    return null;
  };
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-connect]");
    if (!a || !connectDialog || typeof connectDialog.showModal !== "function") return;
    e.preventDefault();
    loadConnect(a.href);
  });

  // Forms whose answer takes a while (a test request, a run) say so on
  // their button, and a second click sends nothing.
  document.addEventListener("submit", (e) => {
    const button = e.submitter;
    if (!button || !button.dataset.busy) return;
    if (button.getAttribute("aria-busy") === "true") { e.preventDefault(); return; }
    button.setAttribute("aria-busy", "true");
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.busy;
  });
  // Back to a page from the browser's cache: its buttons are idle again.
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    document.querySelectorAll("button[aria-busy=true][data-label]").forEach((b) => {
      b.removeAttribute("aria-busy");
      b.textContent = b.dataset.label;
    });
  });

  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (form.matches("form[data-oauth]")) {
      e.preventDefault();
      closeMenus(null);
      startOAuth(form);
      return;
    }
    if (form.matches("form[data-keys]") && connectDialog && connectDialog.contains(form)) {
      e.preventDefault();
      // A retry starts clean: the last refusal no longer applies.
      connectDialog.querySelectorAll(".form-error").forEach((p) => p.remove());
      const button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "Testing…"; }
      const done = await loadConnect(form.action, { method: "POST", body: new FormData(form) });
      if (done && done.account) window.location.href = "/?done=connected&account=" + encodeURIComponent(done.account);
    }
  });
})();
