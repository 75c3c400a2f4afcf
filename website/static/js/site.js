// The header's menu button on phones. Loaded in <head>, not deferred: the "js" class must be
// on <html> before the first paint, or the menu would show open and then jump shut.
// Without JavaScript the button stays hidden and the menu stays open (preau.css).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    var header = document.querySelector(".site-header");
    var button = header && header.querySelector(".menu-button");
    var menu = document.getElementById("site-menu");
    if (!button || !menu) return;

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }

    button.hidden = false;
    setOpen(false);
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and gives the focus back to its button.
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        setOpen(false);
        button.focus();
      }
    });
  });
})();

// The installable web app: its service worker (sw.js) keeps the last seen planning, wallet and
// menu for reading offline. A page it serves from that copy shows when it was saved, and its
// booking buttons are disabled: nothing is queued while offline.
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var banner = document.getElementById("offline-banner");
    if (!banner || !banner.dataset.savedAt) return;
    var saved = new Date(banner.dataset.savedAt);
    var when = saved.toLocaleString(document.documentElement.lang || "fr",
                                    {dateStyle: "full", timeStyle: "short"});
    banner.textContent = banner.dataset.text.replace("{date}", when);
    banner.hidden = false;
    // Logging out stays possible: the worker then empties the kept pages even offline.
    document.querySelectorAll("form[method=post]:not([action$='/deconnexion/']) button")
      .forEach(function (button) { button.disabled = true; });
  });
})();
