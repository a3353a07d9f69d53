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
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var reason = xhr.getResponseHeader("X-Error-Message");
    if (!reason) {
      reason = xhr.status === 403 ? "You are not allowed to do that."
        : xhr.status === 404 ? "That no longer exists."
        : xhr.status >= 500 ? "The server failed to answer. Try again; if it keeps happening, tell the platform team."
        : "The request was refused (" + xhr.status + ").";
    }
    toast(reason, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Switchyard could not be reached. Check your connection and try again.", "error");
  });
  document.addEventListener("htmx:timeout", function () {
    toast("The request timed out. Try again in a moment.", "warning");
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
