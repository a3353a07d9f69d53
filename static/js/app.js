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
  });
})();
