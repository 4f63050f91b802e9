// Warroom console: the little behaviour htmx does not cover. Loaded as a file (CSP: script-src 'self').
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#selector">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value || source.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1600);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  // Select the whole token secret on focus, so a manual copy gets all of it.
  document.addEventListener("focusin", function (event) {
    if (event.target.id === "token-secret") event.target.select();
  });

  // Fields that apply only to some choices: <div data-show-if="kind=grafana webhook;grouping=window"> is hidden
  // while the form's control "kind" (or "grouping") holds another value. A field showing an error stays; a rule
  // naming a control the form does not have is ignored. Without this script every field shows.
  function showIf(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (field) {
      var show = field.classList.contains("has-error") ||
        field.getAttribute("data-show-if").split(";").every(function (rule) {
          var parts = rule.split("=");
          var control = form.elements.namedItem(parts[0]);
          return !control || (parts[1] || "").split(" ").indexOf(control.value) !== -1;
        });
      field.hidden = !show;
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-if]")) showIf(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.querySelector("[data-show-if]")) showIf(form);
  });

  // A form that came back with errors: bring its summary of them into view (inside a scrolling popover too).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // Keyboard focus across a plain form's POST → redirect → page: a submit button marked
  // data-refocus="id1 id2" names the controls that take focus on the page that comes back, the first that
  // exists (e.g. "Move step 3 up" → the moved step's "Move step 2 up", or its "Move step 2 down" once it is
  // first). Only for the next load of the same page in this tab, and never over an error summary. The page
  // stays scrolled where the URL's #fragment put it unless the control is out of sight there.
  var REFOCUS = "warroom.refocus";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.hasAttribute("data-refocus") || event.target.hasAttribute("hx-post")) return;
    try {
      sessionStorage.setItem(REFOCUS, JSON.stringify({
        path: location.pathname, ids: button.getAttribute("data-refocus").split(" ")
      }));
    } catch (e) { /* storage refused (private mode): focus simply stays where the browser puts it */ }
  });
  // (On "load": scrolling to the #fragment, which the browser does once the page is parsed, moves focus to the
  // page itself, and would take it back from a control focused any earlier.)
  window.addEventListener("load", function () {
    try {
      var refocus = JSON.parse(sessionStorage.getItem(REFOCUS) || "null");
      sessionStorage.removeItem(REFOCUS);
      if (refocus && refocus.path === location.pathname && !summary) {
        var control = refocus.ids.map(function (id) { return document.getElementById(id); })
          .filter(Boolean)[0];
        if (control) control.focus();
      }
    } catch (e) { /* nothing stored, or storage refused */ }
  });

  // An error put in the flash area (at the top of the page) must be seen where the user is: the server's refusal
  // of an htmx request is swapped in with "show:#flash:top"; an answer htmx does not swap (a 5xx) or no answer at
  // all (the network) is written there here, announced (role=alert) and scrolled into view.
  function flashError(text) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    alert.setAttribute("data-client-error", "");
    alert.textContent = text;
    flash.querySelectorAll("[data-client-error]").forEach(function (old) { old.remove(); });
    flash.appendChild(alert);
    flash.scrollIntoView({ block: "start" });
  }
  // A polling refresh (hx-trigger "every ...") that fails says nothing: it tries again, and must not pull the
  // page to the top while someone reads or types.
  function polled(event) {
    var elt = event.detail && event.detail.elt;
    return !!(elt && elt.getAttribute && /\bevery\b/.test(elt.getAttribute("hx-trigger") || ""));
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (polled(event)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    flashError("Warroom could not do that: the server answered with an error (" + status + "). " +
      "Try again; if it keeps failing, reload the page.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (polled(event)) return;
    flashError("Warroom could not be reached. Check your connection, then try again.");
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (polled(event)) return;
    flashError("Warroom did not answer in time. Try again.");
  });

  // A new action clears what the flash area said about the last one, errors and confirmations alike ("INC…
  // acknowledged" must not stay on screen through the notes and the resolve that follow); a poll does not.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (polled(event)) return;
    var flash = document.getElementById("flash");
    if (flash) flash.querySelectorAll(".alert").forEach(function (old) { old.remove(); });
  });
  // A swap that takes one block of the page (hx-select) would drop the messages the answer carries in its own
  // flash area (they are shown once, so they would be lost): copy them into this page's flash area.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (polled(event) || !detail.xhr || detail.xhr.status >= 300 || !detail.shouldSwap) return;
    if (detail.target && detail.target.id === "flash") return;
    var text = detail.serverResponse;
    if (typeof text !== "string" || text.indexOf('id="flash"') < 0) return;
    var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("flash");
    var flash = document.getElementById("flash");
    if (!fresh || !flash) return;
    fresh.querySelectorAll(".alert").forEach(function (alert) { flash.appendChild(document.importNode(alert, true)); });
  });
  // While a request runs, mark the form busy (the CSS dims its buttons).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest("form");
    if (form) form.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest("form");
    if (form) form.removeAttribute("aria-busy");
  });
})();
