// One global handler so that a failed htmx request is never silent.
(function () {
  function toast(text, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "error");
    el.setAttribute("role", "alert");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }
  window.switchyardToast = toast;
  function reasonFor(xhr) {
    var reason = xhr.getResponseHeader("X-Error-Message");
    if (reason) return reason;
    return xhr.status === 403 ? "You are not allowed to do that."
      : xhr.status === 404 ? "That no longer exists."
      : xhr.status === 429 ? "Too many requests. Wait a minute and try again."
      : xhr.status >= 500 ? "The server failed to answer. Try again; if it keeps happening, tell the platform team."
      : "The request was refused (" + xhr.status + ").";
  }
  // An error message right where the person acted: inside the form, or after the button or
  // link. One per element: a repeated failure (a polling card) replaces it.
  function inlineError(elt, text) {
    if (!elt || !elt.isConnected) { toast(text, "error"); return; }
    var form = elt.tagName === "FORM" ? elt : null;
    var anchor = form || elt;
    var box = anchor.__switchyardError;
    if (!box || !box.isConnected) {
      box = document.createElement("p");
      box.className = "inline-error";
      box.setAttribute("role", "alert");
      if (form) form.appendChild(box); else anchor.insertAdjacentElement("afterend", box);
      anchor.__switchyardError = box;
    }
    box.textContent = text;
  }
  // A fragment the server rendered for an error (try-it's refusal, a form's problems) belongs
  // in its target, styled like the page. A whole page (403, 404, 500) never replaces the card
  // or the page: the person gets the inline message below instead.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status < 400) return;
    var text = xhr.responseText || "";
    if (text.trim() && !/<html[\s>]/i.test(text)) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    } else {
      evt.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:responseError", function (evt) {
    inlineError(evt.detail.elt, reasonFor(evt.detail.xhr));
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt, box = elt && elt.__switchyardError;
    if (evt.detail.successful && box) { box.remove(); elt.__switchyardError = null; }
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Switchyard could not be reached. Check your connection and try again.", "error");
  });
  document.addEventListener("htmx:timeout", function () {
    toast("The request timed out. Try again in a moment.", "warning");
  });
  // "copy" buttons copy the text of the element after their paragraph (no inline handlers: CSP).
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-copy-next]");
    if (!button || !navigator.clipboard) return;
    var source = button.parentNode.nextElementSibling;
    if (source) navigator.clipboard.writeText(source.textContent);
  });
  // Messages rendered with the page fade out by themselves.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 8000);
    });
    enhance(document);
  });
  document.addEventListener("htmx:load", function (evt) { enhance(evt.target); });

  // Behaviour that pages ask for with data attributes: the Content-Security-Policy allows no
  // inline scripts, handlers or style attributes.
  function enhance(root) {
    root.querySelectorAll("[data-progress]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, Number(el.dataset.progress) || 0)) + "%";
    });
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select[data-navigate]")) {
      window.location = evt.target.value;
    }
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.matches && form.matches("form[data-navigate-form]") && form.elements.v) {
      evt.preventDefault();
      window.location = form.elements.v.value;
    }
  });
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-copy-next]");
    if (!button) return;
    var source = button.parentNode.nextElementSibling;
    if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent);
  });
  // Countdown to each override's expiry (tuning); beat does the actual revert.
  function tick() {
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.dataset.until) - Date.now()) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
