/* Small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  function focusErrorSummary() {
    // Form errors are announced by moving focus to their summary (WCAG 3.3.1).
    var summary = document.querySelector("[data-autofocus]");
    if (summary) {
      summary.focus();
    }
  }

  function enableCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.value !== undefined ? source.value : source.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () {
          var selector = button.getAttribute("data-status");
          var status = selector ? document.querySelector(selector) : null;
          if (status) {
            status.textContent = button.getAttribute("data-copied") || "";
          }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    enableCopyButtons();
  });

  // An htmx action the server refused (the object changed meanwhile, or access ended):
  // load the page afresh so that it shows the current state and the server's message.
  document.addEventListener("htmx:responseError", function () {
    window.location.reload();
  });
})();
