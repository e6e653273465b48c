// Calendar feed page: a "Copy" button for the feed address (the field stays selectable without it).
(function () {
  "use strict";
  function setUp() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.querySelector(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      if (!field || !navigator.clipboard) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(
          function () {
            if (status) { status.textContent = button.getAttribute("data-done") || "Copied."; }
          },
          function () {
            field.select();
          }
        );
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
