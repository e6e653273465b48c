// Booking pages: send a confirm form once, and keep keyboard focus sensible after htmx swaps.
(function () {
  "use strict";

  // A second click while the first request is on its way would only be answered with the
  // same visit (the server checks), but a disabled button says plainly that it is working.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) {
      return;
    }
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    var submitter = event.submitter;
    window.setTimeout(function () {
      form.querySelectorAll("button[type='submit']").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        button.disabled = true;
      });
      if (submitter) {
        submitter.setAttribute("aria-busy", "true");
      }
    }, 0);
  });

  // After the picker is swapped in place, move focus to the step that changed.
  document.addEventListener("htmx:afterSettle", function (event) {
    var picker = document.getElementById("picker");
    if (!picker || !event.target || event.target.id !== "picker") {
      return;
    }
    var heading = picker.querySelector("#step-time") || picker.querySelector("#step-day");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  });
})();
