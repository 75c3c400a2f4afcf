// Planning clicks: the pressed day says at once that it is being saved (phones have no cursor),
// and a click that cannot reach the server says so instead of doing nothing.
(function () {
  "use strict";

  function pressedButton(event) {
    var config = event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    var button = trigger && trigger.submitter;
    return button && button.classList.contains("cell-button") ? button : null;
  }

  function say(text) {
    var status = document.getElementById("planning-status");
    if (!status || !text) return;
    var p = document.createElement("p");
    p.className = "alert alert-error";
    p.textContent = text;
    status.replaceChildren(p);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = pressedButton(event);
    if (button) button.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    // On success the cell was replaced; on failure the same button is still there.
    var button = pressedButton(event);
    if (button) button.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:sendError", function () {
    var status = document.getElementById("planning-status");
    say(status && status.dataset.networkError);
  });

  document.addEventListener("htmx:responseError", function () {
    var status = document.getElementById("planning-status");
    say(status && status.dataset.serverError);
  });
})();
