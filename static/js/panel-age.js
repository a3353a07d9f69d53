// Every live panel (an element that htmx reloads "every Ns") says how old what it shows is,
// and says so loudly once it has not been refreshed for three of its intervals: the worker, the
// network or the data source behind it is not answering, so the numbers may no longer be true.
(function () {
  var LIVE = '[hx-trigger*="every "]';

  function interval(el) {
    var match = /every\s+(\d+(?:\.\d+)?)(ms|s|m)?/.exec(el.getAttribute("hx-trigger") || "");
    if (!match) return null;
    var unit = match[2] === "ms" ? 0.001 : match[2] === "m" ? 60 : 1;
    return parseFloat(match[1]) * unit;
  }

  function stamp(el) {
    el.setAttribute("data-read-at", String(Date.now()));
  }

  function label(el) {
    var own = el.querySelector(":scope > .panel-age");
    if (!own) {
      own = document.createElement("small");
      own.className = "panel-age";
      own.setAttribute("aria-live", "polite");
      el.insertBefore(own, el.firstChild);
    }
    return own;
  }

  function tick() {
    document.querySelectorAll(LIVE).forEach(function (el) {
      var every = interval(el);
      if (!every || el.getAttribute("data-polling") === "stopped") return;
      if (!el.hasAttribute("data-read-at")) stamp(el);
      var age = Math.max(0, Math.round((Date.now() - Number(el.getAttribute("data-read-at"))) / 1000));
      var bound = Math.max(3 * every, 5);
      var own = label(el);
      if (age > bound) {
        own.className = "panel-age stale";
        own.textContent = "Not updated for " + age + " s: Switchyard or the system behind " +
          "this card is not answering, so it may be out of date. Reload the page, and tell the " +
          "platform team if it stays.";
      } else {
        own.className = "panel-age";
        own.textContent = "read " + age + " s ago";
      }
    });
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    var el = evt.detail && evt.detail.elt;
    if (!el || !el.closest) return;
    var live = el.matches(LIVE) ? el : el.closest(LIVE);
    if (live) stamp(live);
    tick();
  });
  document.addEventListener("htmx:beforeSwap", function (evt) {
    // 286: the server says the panel is final (a finished release); it stops polling.
    if (evt.detail.xhr && evt.detail.xhr.status === 286 && evt.detail.elt) {
      evt.detail.elt.setAttribute("data-polling", "stopped");
      var own = evt.detail.elt.querySelector(":scope > .panel-age");
      if (own) own.remove();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(LIVE).forEach(stamp);
    tick();
    setInterval(tick, 1000);
  });
})();
